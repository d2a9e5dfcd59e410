/**
 * How workers, the CLI and tests reach a breakerSupervisor: signalWithStart
 * on `breaker-<key>` (the upstream's own breaker: its id; one model's:
 * `<upstreamId>/<model token>`), so whoever speaks first starts it and a
 * duplicate only adds a no-op input to its queue.
 */
import type { Client } from '@temporalio/client';
import { BreakerInput, type BreakerPolicy, type TripSignal } from '../../schemas/health';
import { breakerKeyOfSignal, modelOfKey, upstreamOfKey } from '../health/breaker-levels';
import { breakerTaskQueue, breakerWorkflowId } from '../../contracts/names';
import { breakerInputSignal, type BreakerSupervisorInput, type BreakerSupervisorWorkflow, workflowTypes } from '../../contracts/workflow-types';

export interface BreakerSignals {
  /** To the breaker `key`: an upstream id (its own breaker) or `breakerKeyOf(upstream, model)`. */
  send(key: string, input: BreakerInput): Promise<void>;
  /** To the breaker the signal is for (`breakerKeyOfSignal`). */
  trip(signal: TripSignal): Promise<void>;
}

/** `policy` may be a getter (a worker's live config); it is read when a supervisor is started. */
export function createBreakerSignals(options: {
  client: Client;
  taskQueue: string;
  cluster?: string;
  policy: BreakerPolicy | (() => BreakerPolicy);
}): BreakerSignals {
  const { client, taskQueue, cluster } = options;
  const policyNow = () => (typeof options.policy === 'function' ? options.policy() : options.policy);
  const send = async (key: string, input: BreakerInput): Promise<void> => {
    const model = modelOfKey(key);
    const args: BreakerSupervisorInput = {
      upstream: upstreamOfKey(key),
      key,
      ...(model !== undefined ? { model } : {}),
      policy: policyNow(),
      ...(cluster ? { cluster } : {}),
    };
    await client.workflow.signalWithStart<BreakerSupervisorWorkflow, [unknown]>(workflowTypes.breakerSupervisor, {
      workflowId: breakerWorkflowId(key, cluster),
      taskQueue: breakerTaskQueue(taskQueue),
      args: [args],
      signal: breakerInputSignal,
      // Validated here, where zod is cheap; the workflow only checks the shape (lib/health/breaker-input-guard.ts).
      signalArgs: [BreakerInput.parse(input)],
    });
  };
  return { send, trip: (signal) => send(breakerKeyOfSignal(signal), { kind: 'trip', signal }) };
}
