/**
 * Recovery within seconds of healing, on the real stack: the breaker's
 * supervisor probes by itself when a cooldown ends (no user traffic needed),
 * the default cooldown cap keeps a flapping primary's ladder short, and
 * breaker settings from a config reload reach running supervisors.
 */
import { findFreePort } from '../../lib/ports';
import { eventually } from '../harness/switchboard';
import { type BreakerCluster, modelBreakerOf, openaiOrg, startBreakerCluster, upstreamOf } from './breaker-cluster';

const HEALED_WITHIN_MS = 30_000;

describe('breaker recovery: supervisor probes, the cooldown cap, live breaker settings', () => {
  let c: BreakerCluster;
  let metricsUrl: string;
  beforeAll(async () => {
    const healthPort = await findFreePort();
    metricsUrl = `http://127.0.0.1:${healthPort}/metrics`;
    // The default breaker settings (cooldown 5 s doubling to its 20 s cap, ±20% jitter, one probe at a time).
    c = await startBreakerCluster({ pods: 1, configOverrides: { breaker: {} }, podEnv: { SB_HEALTH_PORT: String(healthPort), SB_CONFIG_POLL_MS: '300' } });
  }, 90_000);
  afterAll(async () => {
    await c?.close();
  });

  const A = upstreamOf('a');
  const B = upstreamOf('b');
  const eventsOf = (upstream: string) => c.events.filter((e) => e.upstream === upstream);

  it(`brings a flapping primary (3 s down / 2 s up) back into full service within ${HEALED_WITHIN_MS / 1000} s of healing, with no user traffic and one probe per half-open period`, async () => {
    c.vendor.setFault({ organisation: openaiOrg('a'), fault: { kind: 'flap', downMs: 3_000, upMs: 2_000, status: 503 } });
    // Flap under traffic until the cooldown ladder has climbed (three openings) and the breaker is open right now.
    const flapping = await c.trafficUntil(
      async () => eventsOf(A).filter((e) => e.transition === 'opened').length >= 3 && (await c.breaker(modelBreakerOf(A)))?.state === 'open',
      { concurrency: 2, tag: 'flap', timeoutMs: 120_000 },
    );
    expect(flapping.filter((o) => !o.ok)).toEqual([]);
    c.vendor.clearFaults(openaiOrg('a'));
    const healedAt = Date.now();
    const openState = (await c.breaker(modelBreakerOf(A)))!;

    // Quiet: nobody calls. The supervisor's own probe closes the breaker when the cooldown ends.
    const closed = await c.waitForEvent(
      'the healed primary to close',
      (e) => e.upstream === A && e.transition === 'closed' && e.at >= healedAt,
      HEALED_WITHIN_MS + 10_000,
    );
    expect(closed.cause).toBe('probes_succeeded');
    expect(closed.at - healedAt).toBeLessThan(HEALED_WITHIN_MS);
    expect(closed.at).toBeGreaterThanOrEqual(openState.reopenAt!);
    const healedRequests = c.vendor.requests({ organisation: openaiOrg('a') }).filter((r) => r.time >= healedAt && r.time <= closed.at);
    expect(healedRequests.map((r) => r.status)).toEqual([200]);

    // Full service: traffic reaches the primary again, near its share of the pool (a third; the latency
    // factor of a freshly healed upstream may still lower it a little).
    const serviceFrom = Date.now();
    const after = await c.trafficUntil(() => Date.now() > serviceFrom + 4_000, { concurrency: 2, tag: 'healed' });
    expect(after.every((o) => o.ok)).toBe(true);
    expect(after.filter((o) => o.upstream === A).length).toBeGreaterThanOrEqual(after.length / 8);

    // Probe discipline over the whole run: at most one request per half-open period, never a burst.
    const timeline = eventsOf(A);
    const toA = c.vendor.requests({ organisation: openaiOrg('a') });
    for (const [i, event] of timeline.entries()) {
      if (event.transition !== 'half_open') continue;
      const end = timeline[i + 1]?.at ?? Date.now();
      expect({ halfOpenAt: event.at, requests: toA.filter((r) => r.time >= event.at && r.time <= end).length }).toEqual({ halfOpenAt: event.at, requests: 1 });
    }
  }, 240_000);

  it('applies breaker settings from a config reload to a supervisor that is already running', async () => {
    const generation = async () => Number(/^sb_config_generation (\d+)/m.exec(await (await fetch(metricsUrl)).text())?.[1]);
    const t0 = Date.now();
    c.vendor.setFault({ organisation: openaiOrg('b'), fault: { kind: 'status', status: 503 } });
    await c.trafficUntil(() => eventsOf(B).some((e) => e.transition === 'opened' && e.at >= t0), { concurrency: 2, tag: 'b-first' });
    const first = eventsOf(B).find((e) => e.transition === 'opened' && e.at >= t0)!;
    // Under the defaults: 5 s ± 20%.
    expect(first.evidence.reopenAt! - first.at).toBeGreaterThanOrEqual(4_000);

    const before = await generation();
    c.reconfigure({ breaker: { baseCooldownMs: 2_500, cooldownMultiplier: 1, jitterRatio: 0 } });
    await eventually('the pod to reload its config', async () => ((await generation()) > before ? true : undefined), 20_000);

    // The same supervisor (its breaker is still open or probing) applies the new settings to its next opening.
    const reopened = await c.waitForEvent('the next opening of B', (e) => e.upstream === B && e.transition === 'opened' && e.revision > first.revision, 30_000);
    expect(reopened.evidence.reopenAt! - reopened.at).toBe(2_500);
    c.vendor.clearFaults(openaiOrg('b'));
    await c.waitForEvent('B to close', (e) => e.upstream === B && e.transition === 'closed' && e.revision > reopened.revision, 20_000);
  }, 120_000);
});
