/**
 * Activity options the workflows share, named by what the step is: a plan
 * (quick, read-only, tried again unless the request itself is wrong) and a
 * record (a publish that must land: tried a few more times).
 */
import type { ActivityOptions } from '@temporalio/workflow';
import { failureTypes } from '../contracts/failures';

/** Planning a call or a drill from the config: 5 s, 3 tries, not retried when the request is invalid. */
export const planStep = {
  startToCloseTimeout: '5 seconds',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: [failureTypes.invalidRequest] },
} satisfies ActivityOptions;

/** Storing and recording what a call did (cache store, interaction record, failure record): 10 s, 5 tries. */
export const recordStep = {
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 5 },
} satisfies ActivityOptions;
