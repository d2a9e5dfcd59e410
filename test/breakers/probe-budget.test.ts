/**
 * The half-open probe budget holds cluster-wide under load: three worker
 * processes send concurrent traffic while a sick organisation goes through
 * half-open period after half-open period; each period lets exactly
 * `halfOpenMaxConcurrent` (1) request reach it — the supervisor's own probe
 * or a caller's, never both, and never a second one after a failed probe.
 */
import { type BreakerCluster, openaiOrg, startBreakerCluster, upstreamOf } from './breaker-cluster';

const PERIODS = 5;

describe('half-open probe budget under concurrent traffic from several workers', () => {
  let c: BreakerCluster;
  beforeAll(async () => {
    c = await startBreakerCluster({
      pods: 3,
      configOverrides: { breaker: { baseCooldownMs: 1_000, maxCooldownMs: 1_500, jitterRatio: 0, halfOpenMaxConcurrent: 1 } },
    });
  }, 120_000);
  afterAll(async () => {
    await c?.close();
  });

  it(`lets exactly one request reach a sick organisation per half-open period, ${PERIODS} periods in a row`, async () => {
    const A = upstreamOf('a');
    c.vendor.setFault({ organisation: openaiOrg('a'), fault: { kind: 'status', status: 503 } });
    const halfOpens = () => c.events.filter((e) => e.upstream === A && e.transition === 'half_open');
    // Two more half-open periods than counted, so the last counted one is closed off by the next.
    const outcomes = await c.trafficUntil(() => halfOpens().length >= PERIODS + 1, { concurrency: 6, tag: 'budget', timeoutMs: 90_000 });
    expect(outcomes.filter((o) => !o.ok)).toEqual([]);

    const periods = halfOpens();
    const toA = c.vendor.requests({ organisation: openaiOrg('a') });
    const perPeriod = periods.slice(0, PERIODS).map((h, i) => toA.filter((r) => r.time >= h.at && r.time < periods[i + 1]!.at).length);
    expect(perPeriod).toEqual(Array.from({ length: PERIODS }, () => 1));
    // Each period ended in a re-open by its one failed probe.
    const reopens = c.events.filter(
      (e) => e.upstream === A && e.transition === 'opened' && e.revision > periods[0]!.revision && e.revision < periods[PERIODS]!.revision,
    );
    expect(reopens.map((e) => e.cause)).toEqual(Array.from({ length: PERIODS }, () => 'probe_failed'));
  }, 150_000);
});
