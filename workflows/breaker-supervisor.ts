/**
 * breakerSupervisor: one per breaker per cluster — an upstream's own
 * (`breaker-<upstreamId>`) or one model's of it (`breaker-<upstreamId>/<model
 * token>`, see lib/health/breaker-levels.ts) — reached with signalWithStart
 * from whichever worker's registry sees a trip. The single writer of KV
 * `sb_breakers/<key>` and the publisher of its BreakerEvents. Its cooldown is a durable timer (a `condition` with a
 * timeout), so it fires even when every worker was down while it ran. When
 * the breaker turns half-open it sends a probe of its own through the
 * ordinary attempt path, so a healed upstream is noticed without waiting for
 * user traffic.
 */
import { condition, continueAsNew, proxyActivities, proxyLocalActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { createAttemptActivities } from '../activities/attempts';
import type { createBreakerActivities } from '../activities/breakers';
import { initialBreakerState, transitionBreaker } from '../lib/health';
import { asBreakerInput } from '../lib/health/breaker-input-guard';
import type { BreakerInput, BreakerState, SupervisorProbe } from '../schemas/health';
import { breakerInputSignal, breakerStateQuery, type BreakerSupervisorInput } from '../contracts/workflow-types';

type BreakerActivities = ReturnType<typeof createBreakerActivities>;
type AttemptActivities = ReturnType<typeof createAttemptActivities>;

const { readBreakerState, writeBreakerState, publishBreakerEvent } = proxyActivities<BreakerActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '5 seconds' },
});
const { currentBreakerPolicy } = proxyLocalActivities<BreakerActivities>({ startToCloseTimeout: '5 seconds', retry: { maximumAttempts: 3 } });
// One try: a lost probe is answered by the half-open timeout (a fresh period), not by a second request.
const { probeUpstream } = proxyActivities<AttemptActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { maximumAttempts: 1 },
});

/** History events after which the supervisor starts afresh with its state carried over. */
const HISTORY_LIMIT = 2_000;

export async function breakerSupervisor(input: BreakerSupervisorInput): Promise<void> {
  const { upstream, model, cluster } = input;
  const key = input.key ?? upstream;
  let { policy } = input;
  // A model's breaker probes its model; the upstream's own probes the model of its latest trip.
  let probeModel = model ?? input.probeModel;
  const queue: unknown[] = [...(input.pending ?? [])];
  let state: BreakerState | undefined = input.state;
  setHandler(breakerInputSignal, (raw) => void queue.push(raw));
  setHandler(breakerStateQuery, () => state);
  // The half-open revision whose probe this run has sent.
  let probed: number | undefined;

  const sendProbe = (half: BreakerState) => {
    probed = half.revision;
    const probe: SupervisorProbe = {
      key,
      upstream,
      revision: half.revision,
      budget: half.probeBudget ?? policy.halfOpenMaxConcurrent,
      ...(probeModel ? { model: probeModel } : {}),
    };
    // Not awaited: signals (operator, trips, user-traffic probes) are handled while the probe runs.
    void probeUpstream(probe).then(
      (verdict) => {
        if (verdict.ok !== undefined)
          queue.push({
            kind: 'probe_result',
            ok: verdict.ok,
            revision: probe.revision,
            ...(verdict.error ? { error: verdict.error } : {}),
          } satisfies BreakerInput);
      },
      () => undefined,
    );
  };

  // A breaker never written is closed since forever: a trip whose evidence predates this workflow's start is still news.
  state ??= (await readBreakerState({ cluster, key })) ?? initialBreakerState(upstream, 0, model);
  for (;;) {
    if (state.state === 'half_open' && policy.supervisorProbes && probed !== state.revision) sendProbe(state);
    const deadline = state.state === 'open' ? state.reopenAt : state.state === 'half_open' ? state.since + policy.halfOpenTimeoutMs : undefined;
    if (deadline !== undefined) {
      const waitMs = deadline - Date.now();
      const signalled = waitMs > 0 ? await condition(() => queue.length > 0, waitMs) : false;
      if (!signalled) queue.push(state.state === 'open' ? { kind: 'cooldown_elapsed' } : { kind: 'probe_expired', revision: state.revision });
    } else {
      await condition(() => queue.length > 0);
    }
    // Breaker settings follow a config reload: the next transition uses what the workers run with now.
    policy = (await currentBreakerPolicy().catch(() => undefined)) ?? policy;
    while (queue.length > 0) {
      const breakerInput = asBreakerInput(queue.shift());
      // A malformed signal must not wedge the one writer of this breaker: drop it.
      if (!breakerInput) continue;
      if (model === undefined && breakerInput.kind === 'trip' && breakerInput.signal.model) probeModel = breakerInput.signal.model;
      // Date.now() and Math.random() are deterministic inside the workflow sandbox.
      const step = transitionBreaker(state, breakerInput, policy, Date.now(), Math.random());
      if (step.state !== state) await writeBreakerState({ cluster, state: step.state });
      if (step.event) await publishBreakerEvent({ cluster, event: step.event });
      state = step.state;
    }
    if (workflowInfo().historyLength > HISTORY_LIMIT || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof breakerSupervisor>({
        upstream,
        ...(model !== undefined ? { model } : {}),
        key,
        cluster,
        policy,
        state,
        pending: queue,
        ...(probeModel ? { probeModel } : {}),
      });
    }
  }
}
