// A workflow that runs the pure modules inside Temporal's sandbox, used by
// workflow-sandbox.test.ts to prove they bundle without Node built-ins and
// behave there exactly as in plain Node.
import { embeddingWords } from '../../lib/cache/embedding';
import { createStreamRestorer, maskMessages, restorePii } from '../../lib/pii';
import { repairInstruction, validateOutput } from '../../lib/validation';
import type { JsonSchema, Message } from '../../schemas/llm';

export interface PureModulesInput {
  messages: Message[];
  nonce: string;
  answer: string;
  schema: JsonSchema;
}

/** Everything the workflow computes, as plain data for comparison. */
export function runPureModules(input: PureModulesInput) {
  const masked = maskMessages(input.messages, { custom: [{ name: 'ticket', pattern: 'TKT-\\d+' }] }, { nonce: input.nonce });
  const restorer = createStreamRestorer(masked.entities);
  const maskedText = masked.messages.map((m) => m.content).join('\n');
  const streamed = [...maskedText].map((char) => restorer.push(char)).join('') + restorer.flush();
  const validation = validateOutput(input.answer, { contentKind: 'button', json: true }, { schema: input.schema });
  return {
    masked,
    restored: restorePii(maskedText, masked.entities),
    streamed,
    validation,
    repair: validation.ok ? '' : repairInstruction(validation.failures, { contentKind: 'button', json: true }),
    words: embeddingWords(input.answer),
  };
}

export async function pureModulesWorkflow(input: PureModulesInput): Promise<ReturnType<typeof runPureModules>> {
  return runPureModules(input);
}
