/**
 * Cluster-wide breakers on the real stack: two worker processes as pods, the
 * fake vendor over real HTTP, breaker events tapped on `sb.breaker.>`.
 * The tests run in order on one cluster: a breaker's history (its cooldown
 * ladder) carries from one to the next.
 */
import { type BreakerCluster, openaiOrg, startBreakerCluster, upstreamOf, anthropicUpstream, modelBreakerOf } from './breaker-cluster';
import { breakerKeyOfState } from '../../lib/health';
import { eventually } from '../harness/switchboard';

const THRESHOLD = 3;
const CONCURRENCY = 3;
const BASE_COOLDOWN_MS = 3_000;

describe('cluster-wide circuit breakers (two worker processes)', () => {
  let c: BreakerCluster;
  beforeAll(async () => {
    c = await startBreakerCluster({
      pods: 2,
      configOverrides: { breaker: { baseCooldownMs: BASE_COOLDOWN_MS, maxCooldownMs: 30_000, cooldownMultiplier: 2, jitterRatio: 0 } },
    });
  }, 90_000);
  afterAll(async () => {
    await c?.close();
  });

  const A = upstreamOf('a');
  const B = upstreamOf('b');
  const C = upstreamOf('c');
  const isEvent =
    (upstream: string, transition: string, after = 0) =>
    (e: { upstream: string; transition: string; revision: number }) =>
      e.upstream === upstream && e.transition === transition && e.revision > after;

  it('opens a failing organisation after the threshold counted across the cluster; every pod stops picking it within a second; callers see no error', async () => {
    const t0 = Date.now();
    c.vendor.setFault({ organisation: openaiOrg('a'), fault: { kind: 'status', status: 503 } });
    const before = await c.trafficUntil(() => c.events.some(isEvent(A, 'opened')), { concurrency: CONCURRENCY, tag: 'trip' });
    const opened = c.events.find(isEvent(A, 'opened'))!;
    expect(opened.cause).toBe('consecutive_failures');
    expect(opened.evidence.reopenAt).toBe(opened.at + BASE_COOLDOWN_MS);

    // Every pod's local copy says open within a second of the transition.
    await eventually(
      'every pod to see the breaker open',
      async () => {
        const views = await c.views();
        return views.length === 2 && views.every((v) => v.breakers.some((b) => b.upstream === A && b.state === 'open')) ? true : undefined;
      },
      1_000,
    );

    // Keep traffic flowing until just before the cooldown ends.
    const after = await c.trafficUntil(() => Date.now() > opened.at + BASE_COOLDOWN_MS - 300, { concurrency: CONCURRENCY, tag: 'open' });
    expect([...before, ...after].filter((o) => !o.ok)).toEqual([]);

    const failedAtVendor = c.vendor.requests({ organisation: openaiOrg('a') }).filter((r) => r.time >= t0);
    // The threshold, counted across both pods, plus the attempts already in flight when it was crossed.
    expect(failedAtVendor.length).toBeGreaterThanOrEqual(THRESHOLD);
    expect(failedAtVendor.length).toBeLessThanOrEqual(THRESHOLD + CONCURRENCY);
    expect(failedAtVendor.filter((r) => r.time > opened.at + 1_000 && r.time < opened.at + BASE_COOLDOWN_MS)).toEqual([]);
  }, 120_000);

  it('probes after the cooldown: still broken → re-opened with a longer cooldown; healthy → closed', async () => {
    const firstOpen = c.events.find(isEvent(A, 'opened'))!;
    await c.trafficUntil(() => c.events.some(isEvent(A, 'opened', firstOpen.revision)), { concurrency: 2, tag: 'probe-fail' });
    const halfOpen = c.events.find(isEvent(A, 'half_open', firstOpen.revision))!;
    const reopened = c.events.find(isEvent(A, 'opened', firstOpen.revision))!;
    expect(halfOpen.at).toBeGreaterThanOrEqual(firstOpen.evidence.reopenAt!);
    expect(reopened.cause).toBe('probe_failed');
    expect(reopened.evidence.reopenAt! - reopened.at).toBe(2 * BASE_COOLDOWN_MS);
    // One probe in flight at a time, cluster-wide: the vendor saw exactly one request while half-open.
    expect(c.vendor.requests({ organisation: openaiOrg('a') }).filter((r) => r.time >= halfOpen.at && r.time <= reopened.at)).toHaveLength(1);

    c.vendor.clearFaults(openaiOrg('a'));
    const outcomes = await c.trafficUntil(() => c.events.some(isEvent(A, 'closed', reopened.revision)), { concurrency: 2, tag: 'probe-ok', timeoutMs: 20_000 });
    expect(outcomes.filter((o) => !o.ok)).toEqual([]);
    const closed = c.events.find(isEvent(A, 'closed', reopened.revision))!;
    expect(closed.cause).toBe('probes_succeeded');
    // 503s are the model's fault, not the account's: the breaker of A's model moved, A's own was never written.
    expect(closed.model).toBe('gpt-4o-mini');
    expect((await c.breaker(modelBreakerOf(A)))?.state).toBe('closed');
    expect(await c.breaker(A)).toBeUndefined();
  }, 120_000);

  it("applies an operator's force-open and force-close (from the CLI) on every pod, as events", async () => {
    const sinceRevision = (await c.breaker(C))?.revision ?? 0;
    const sent = JSON.parse(await c.cli('breaker', 'open', C, '--reason', 'test: maintenance at the vendor', '--json')) as unknown;
    expect(sent).toEqual({ upstream: C, action: 'open', reason: 'test: maintenance at the vendor', sent: true });
    const forcedOpen = await c.waitForEvent('forced_open', isEvent(C, 'forced_open', sinceRevision));
    expect(forcedOpen.reason).toBe('test: maintenance at the vendor');
    await eventually(
      'every pod to see forced_open',
      async () => {
        const views = await c.views();
        return views.length === 2 && views.every((v) => v.breakers.some((b) => b.upstream === C && b.state === 'forced_open')) ? true : undefined;
      },
      1_000,
    );
    const seenAt = Date.now();
    const outcomes = await c.trafficUntil(() => Date.now() > seenAt + 1_000, { concurrency: 2, tag: 'forced' });
    expect(outcomes.every((o) => o.ok && o.upstream !== C)).toBe(true);
    expect(c.vendor.requests({ organisation: openaiOrg('c') }).filter((r) => r.time > seenAt)).toEqual([]);

    const status = JSON.parse(await c.cli('status', '--json')) as { workers: number; upstreams: Array<{ upstream: string; state: string }> };
    expect(status.workers).toBe(2);
    expect(status.upstreams.find((u) => u.upstream === C)?.state).toBe('forced_open');
    expect(status.upstreams.find((u) => u.upstream === A)?.state).toBe('closed');

    await c.cli('breaker', 'close', C, '--reason', 'test: back');
    await c.waitForEvent('forced_closed', isEvent(C, 'forced_closed', forcedOpen.revision));
    await eventually(
      'every pod to see forced_closed',
      async () => {
        const views = await c.views();
        return views.length === 2 && views.every((v) => v.breakers.some((b) => b.upstream === C && b.state === 'forced_closed')) ? true : undefined;
      },
      1_000,
    );
    await c.signals.send(C, { kind: 'operator', action: 'auto', reason: 'test: automatic again' });
    await c.waitForEvent('closed after auto', isEvent(C, 'closed', forcedOpen.revision + 1));
  }, 120_000);

  it('a pod started after the failures rebuilds the same health view from the stream', async () => {
    // Calls go on while the pod starts, as in production: its replay covers the health window before its start
    // (20 s here), which on a loaded machine can be longer ago than the failures above — with no calls since, it
    // would have nothing to rebuild (seen: folded 0 after a 30 s start).
    c.spawnPod();
    let ready = false;
    const readiness = c.podsReady(3).then(() => (ready = true));
    await c.trafficUntil(() => ready, { concurrency: 2, tag: 'late-pod', timeoutMs: 180_000 });
    await readiness;
    // Compare the counts that do not depend on arrival order (EWMAs do).
    type View = Awaited<ReturnType<BreakerCluster['views']>>[number];
    const counts = (view: View) =>
      Object.fromEntries(
        view.health.map((h) => [
          h.upstream,
          { calls: h.calls, failures: h.failures, consecutive: h.consecutiveFailures, neutral: h.neutralCalls, errors: h.recentErrors.length },
        ]),
      );
    // B and the Anthropic upstream never changed state: every pod's counts are the same, to the call — once every
    // pod has replayed the stream and its consumer has delivered the last events (on a loaded machine the new pod's
    // replay, or one consumer, may lag a while behind the others).
    let seen: View[] = [];
    const views = await eventually(
      'every pod to have replayed the stream and to count the same calls of B and the Anthropic upstream',
      async () => {
        const all = (seen = await c.views());
        const [first, ...others] = all.map(counts);
        const agree =
          all.length === 3 &&
          all.every((v) => v.replayed && v.folded > 0) &&
          others.every((other) => [B, anthropicUpstream].every((id) => JSON.stringify(other[id]) === JSON.stringify(first![id])));
        return agree ? all : undefined;
      },
      60_000,
    ).catch((error: unknown) => {
      // What the pods said last: which one lags or disagrees, and on what.
      const last = seen.map((v) => ({ replayed: v.replayed, folded: v.folded, B: counts(v)[B], anthropic: counts(v)[anthropicUpstream] }));
      throw new Error(`${String(error)}; last replies: ${JSON.stringify(last)}`);
    });
    const [first, ...others] = views.map(counts);
    // A and C were cleared when their breakers closed. A live pod applies the clear when the KV update
    // arrives, a late pod before its replay, and clearUpstreamHealth drops the bucket straddling `since`:
    // calls made in that one bucket may be counted by one and not the other.
    for (const other of others) {
      for (const id of [A, C]) {
        expect(Math.abs(other[id]!.calls - first![id]!.calls)).toBeLessThanOrEqual(CONCURRENCY * 2);
        expect(other[id]!.failures).toBe(first![id]!.failures);
      }
    }
    expect(views.every((v) => v.replayed && v.folded > 0)).toBe(true);
  }, 120_000);

  it('opens at once on 401 account locked; with every OpenAI organisation locked all traffic goes to Anthropic', async () => {
    const t0 = Date.now();
    c.vendor.setFault({ organisation: openaiOrg('b'), fault: { kind: 'account_locked', reason: 'deactivated' } });
    await c.trafficUntil(() => c.events.some((e) => e.upstream === B && e.transition === 'opened' && e.at >= t0), { concurrency: CONCURRENCY, tag: 'lock-b' });
    const opened = c.events.find((e) => e.upstream === B && e.transition === 'opened' && e.at >= t0)!;
    expect(opened.cause).toBe('fatal');
    const locked = c.vendor.requests({ organisation: openaiOrg('b') }).filter((r) => r.time >= t0);
    expect(locked.length).toBeLessThanOrEqual(1 + CONCURRENCY);
    expect(locked.every((r) => r.status === 401)).toBe(true);

    c.vendor.setFault({ organisation: openaiOrg('a'), fault: { kind: 'account_locked' } });
    c.vendor.setFault({ organisation: openaiOrg('c'), fault: { kind: 'account_locked' } });
    const allOpen = () => [A, C].every((u) => c.events.some((e) => e.upstream === u && e.transition === 'opened' && e.at >= t0));
    await c.trafficUntil(allOpen, { concurrency: CONCURRENCY, tag: 'lock-all' });
    const settled = Date.now();
    const outcomes = await c.trafficUntil(() => Date.now() > settled + 1_500, { concurrency: CONCURRENCY, tag: 'on-anthropic' });
    expect(outcomes.every((o) => o.ok && o.provider === 'bka' && o.upstream === anthropicUpstream)).toBe(true);
    // Only half-open probes may still reach OpenAI (one per half-open transition) once every pod had a second to see the opens.
    const probes = c.events.filter((e) => e.transition === 'half_open' && e.at >= settled).length;
    const toOpenAi = c.vendor.requests({}).filter((r) => r.time > settled + 1_000 && r.protocol === 'openai');
    expect(toOpenAi.length).toBeLessThanOrEqual(probes);
  }, 120_000);

  it('published every transition on sb.breaker.>, revision by revision, for every breaker of both levels', async () => {
    const keys = [A, B, C].flatMap((u) => [u, modelBreakerOf(u)]);
    for (const key of keys) {
      const state = await c.breaker(key);
      const of = () => c.events.filter((e) => breakerKeyOfState(e) === key);
      await eventually(`all events of ${key}`, () => (of().length >= (state?.revision ?? 0) ? true : undefined), 20_000);
      // halfOpenProbes is 1, so every change of state is a transition with its event: revisions 1..R, none missing.
      expect(of().map((e) => e.revision)).toEqual(Array.from({ length: state?.revision ?? 0 }, (_, i) => i + 1));
    }
    // Both levels moved in this file: A's model on 503s, B's account on a 401.
    expect(await c.breaker(modelBreakerOf(A))).toBeDefined();
    expect(await c.breaker(B)).toBeDefined();
  });
});
