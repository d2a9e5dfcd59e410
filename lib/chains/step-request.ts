/**
 * Turns a chain step (and, in a fan-out, one item) into the LlmRequest of its
 * child llmCall, and a failed output into its repair request. Pure and
 * deterministic: the agentChain workflow calls these, and a replay must build
 * byte-identical requests.
 */
import type { ChainDefinition, ChainStep } from '../../schemas/chain';
import type { JsonSchema, LlmRequest, Message } from '../../schemas/llm';
import type { ValidationFailure } from '../../schemas/validation';
import { repairInstruction } from '../validation/repair';
import { jsonTemplatePaths, renderJsonTemplate, renderTemplate, type TemplateScope } from './template';

export interface StepCallContext {
  definition: ChainDefinition;
  step: ChainStep;
  scope: TemplateScope;
  tenant: string;
  user?: string | undefined;
}

/**
 * The step's schema for this call. A schema without placeholders is returned
 * as the same object every time, so the compiled checker (cached by object
 * identity) is built once per step, not once per fan-out item.
 */
function outputSchema(schema: JsonSchema, scope: TemplateScope): JsonSchema {
  return jsonTemplatePaths(schema).length === 0 ? schema : (renderJsonTemplate(schema, scope) as JsonSchema);
}

/** The request of one call of `step`; throws TemplateError when a placeholder has no value. */
export function buildStepRequest({ definition, step, scope, tenant, user }: StepCallContext): LlmRequest {
  const messages: Message[] = [];
  if (step.system) messages.push({ role: 'system', content: renderTemplate(step.system, scope) });
  messages.push({ role: 'user', content: renderTemplate(step.prompt, scope) });
  return {
    route: step.route ?? definition.route,
    messages,
    ...(step.output ? { output: { name: step.output.name, schema: outputSchema(step.output.schema, scope) } } : {}),
    ...(step.params ? { params: step.params } : {}),
    tenant,
    ...(user ? { user } : {}),
    feature: step.feature ?? `${definition.name}.${step.id}`,
    ...(step.deadlineMs ? { deadlineMs: step.deadlineMs } : {}),
    stream: false,
  };
}

/** Checks a value against a JSON Schema: in a workflow, the json-check local activity (zod stays out of workflow code). */
export type JsonSchemaCheck = (input: { value: unknown; schema: JsonSchema }) => Promise<ValidationFailure[]>;

/** Why a step's answer is unacceptable: schema failures of its structured output; none for text steps. */
export async function checkStepOutput(request: LlmRequest, output: unknown, check: JsonSchemaCheck): Promise<ValidationFailure[]> {
  if (!request.output) return [];
  if (output === undefined) return [{ rule: 'json_parse', message: 'not valid JSON: no structured output in the answer' }];
  return check({ value: output, schema: request.output.schema });
}

/** The follow-up request: the conversation so far, the rejected answer, and what to fix. */
export function buildRepairRequest(request: LlmRequest, answerText: string, failures: ReadonlyArray<ValidationFailure>): LlmRequest {
  return {
    ...request,
    messages: [...request.messages, { role: 'assistant', content: answerText }, { role: 'user', content: repairInstruction(failures, { json: true }) }],
  };
}

/** One line naming every failure, for the chain's error. */
export function describeFailures(failures: ReadonlyArray<ValidationFailure>): string {
  return failures.map((f) => (f.path ? `${f.path}: ${f.message}` : f.message)).join('; ');
}
