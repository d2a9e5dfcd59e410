import { restorePii } from '../lib/pii';
import { repairInstruction, validateOutput, type CustomValidator } from '../lib/validation';
import { VendorFailure } from '../lib/vendors/errors';
import type { VendorCallResult } from '../lib/vendors/types';
import type { AttemptInput } from '../schemas/call';

export interface RejectedAnswer {
  failure: VendorFailure;
  /** The answer as the vendor wrote it and the instruction asking for a fix: the next attempt's extra turn. */
  repair: { answer: string; instruction: string };
}

/**
 * Checks an answer before the attempt counts as a success: the route's or
 * feature's validation, and the structured-output schema when one was asked
 * for. Runs on the restored text (placeholders would distort lengths). An
 * invalid answer is `invalid_output` — repairable, never a breaker failure.
 */
export function checkAnswer(input: AttemptInput, result: VendorCallResult, customValidators: Record<string, CustomValidator>): RejectedAnswer | undefined {
  const schema = input.request.output?.schema;
  if (!input.validation && !schema) return undefined;
  // A tool call is not an answer to check; the caller runs the tool and asks again.
  if (result.toolCalls?.length) return undefined;
  const config = input.validation ?? { nonEmpty: true, json: true };
  let verdict: ReturnType<typeof validateOutput>;
  try {
    const restored = restorePii(result.text, input.piiEntities ?? []);
    verdict = validateOutput(restored, config, { ...(schema ? { schema } : {}), customValidators });
  } catch (error) {
    // The vendor answered; our own check broke. Ours, not the vendor's: no breaker count, no retry elsewhere.
    throw new VendorFailure(
      { outcome: 'internal', errorType: 'internal_check', message: `checking the answer failed: ${(error as Error).message ?? String(error)}` },
      { cause: error },
    );
  }
  if (verdict.ok) return undefined;
  const first = verdict.failures[0]!;
  return {
    failure: new VendorFailure({
      outcome: 'invalid_output',
      errorType: `validation_${first.rule}`,
      message: verdict.failures.map((f) => f.message).join('; '),
    }),
    repair: { answer: result.text, instruction: repairInstruction(verdict.failures, config) },
  };
}
