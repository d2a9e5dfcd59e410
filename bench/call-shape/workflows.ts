/**
 * The floor workflow and the floor plus each extra command an `llmCall`
 * completes with (bench/call-shape/main.ts measures them side by side).
 */
import { patched, proxyLocalActivities, upsertSearchAttributes } from '@temporalio/workflow';
import { searchAttributes } from '../../contracts/names';

const { answer } = proxyLocalActivities<{ answer(body: string): Promise<string> }>({ startToCloseTimeout: '60 seconds', retry: { maximumAttempts: 1 } });

const outcome = () =>
  upsertSearchAttributes([
    { key: searchAttributes.provider, value: 'openai' },
    { key: searchAttributes.upstream, value: 'openai/org-a' },
    { key: searchAttributes.outcome, value: 'answered' },
  ]);

/** One local activity: the floor. */
export async function bare(body: string): Promise<string> {
  return answer(body);
}

/** The floor with a patch marker, as `llmCall`'s CALL_SHAPE. */
export async function withPatch(body: string): Promise<string> {
  patched('bench-call-shape');
  return answer(body);
}

/** The floor with the outcome's search attributes upserted in the completing task, as `llmCall`'s finish. */
export async function withOutcome(body: string): Promise<string> {
  const answered = await answer(body);
  outcome();
  return answered;
}

/** Both, as an answered `llmCall`. */
export async function withBoth(body: string): Promise<string> {
  patched('bench-call-shape');
  const answered = await answer(body);
  outcome();
  return answered;
}
