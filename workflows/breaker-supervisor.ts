/**
 * breakerSupervisor: one per upstream per cluster (id `breaker-<upstreamId>`),
 * reached with signalWithStart from whichever worker's registry sees a trip.
 * The single writer of KV `sb_breakers/<upstreamId>` and the publisher of
 * its BreakerEvents. Its cooldown is a durable timer (a `condition` with a
 * timeout), so it fires even when every worker was down while it ran.
 */
import { condition, continueAsNew, defineQuery, defineSignal, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { createBreakerActivities } from '../activities/breakers';
import { initialBreakerState, transitionBreaker } from '../lib/health';
import { asBreakerInput } from '../lib/health/breaker-input-guard';
import type { BreakerPolicy, BreakerState } from '../schemas/health';
import { breakerNames } from './definitions';

type BreakerActivities = ReturnType<typeof createBreakerActivities>;

export interface BreakerSupervisorInput {
  upstream: string;
  cluster?: string;
  policy: BreakerPolicy;
  /** Carried over by continue-as-new; absent on first start (then read from KV). */
  state?: BreakerState;
  /** Inputs that arrived but were not handled before continue-as-new. */
  pending?: unknown[];
}

export const breakerInputSignal = defineSignal<[unknown]>(breakerNames.input);
export const breakerStateQuery = defineQuery<BreakerState | undefined>(breakerNames.state);

const { readBreakerState, writeBreakerState, publishBreakerEvent } = proxyActivities<BreakerActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '5 seconds' },
});

/** History events after which the supervisor starts afresh with its state carried over. */
const HISTORY_LIMIT = 2_000;

export async function breakerSupervisor(input: BreakerSupervisorInput): Promise<void> {
  const { upstream, cluster, policy } = input;
  const queue: unknown[] = [...(input.pending ?? [])];
  let state: BreakerState | undefined = input.state;
  setHandler(breakerInputSignal, (raw) => void queue.push(raw));
  setHandler(breakerStateQuery, () => state);

  // A breaker never written is closed since forever: a trip whose evidence predates this workflow's start is still news.
  state ??= (await readBreakerState({ cluster, upstream })) ?? initialBreakerState(upstream, 0);
  for (;;) {
    if (state.state === 'open' && state.reopenAt !== undefined) {
      const waitMs = state.reopenAt - Date.now();
      const signalled = waitMs > 0 ? await condition(() => queue.length > 0, waitMs) : false;
      if (!signalled) queue.push({ kind: 'cooldown_elapsed' });
    } else {
      await condition(() => queue.length > 0);
    }
    while (queue.length > 0) {
      const breakerInput = asBreakerInput(queue.shift());
      // A malformed signal must not wedge the one writer of this breaker: drop it.
      if (!breakerInput) continue;
      // Date.now() and Math.random() are deterministic inside the workflow sandbox.
      const step = transitionBreaker(state, breakerInput, policy, Date.now(), Math.random());
      if (step.state !== state) await writeBreakerState({ cluster, state: step.state });
      if (step.event) await publishBreakerEvent({ cluster, event: step.event });
      state = step.state;
    }
    if (workflowInfo().historyLength > HISTORY_LIMIT || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof breakerSupervisor>({ upstream, cluster, policy, state, pending: queue });
    }
  }
}
