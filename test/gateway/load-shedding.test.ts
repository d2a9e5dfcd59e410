/**
 * Load shedding. The pure estimate and decision, table-driven; then a
 * capacity-bound stack (a worker with 2 attempt slots, a vendor that takes
 * 1 s): at steady load every call is answered, and a burst far beyond
 * capacity is refused fast with 503 + retry-after while the admitted calls
 * keep answering well within their deadline — instead of every caller
 * waiting to the deadline.
 */
import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import { createLogger } from '../../lib/log';
import type { AdaptiveLimitConfig } from '../../schemas/gateway';
import { createGateway, type Gateway } from '../../services/gateway/server';
import { createLoadGauge, decideShedding, estimateAnswerMs, waitBeforeFirstAttemptMs } from '../../lib/admission/load-shedding';
import { startGateway, tenantKeys, type GatewayUnderTest } from '../harness/gateway';
import { testStack } from '../harness/env';
import { eventually } from '../harness/switchboard';

const policy = { shareOfDeadline: 0.5, maxInFlight: 100, adaptive: true };

describe('load shedding (pure)', () => {
  it.each([
    ['idle', { inFlight: 0, completions: 0, windowMs: 10_000, oldestInFlightMs: 0, limit: 100 }, 0],
    ['keeping up: 10 in flight, 10/s', { inFlight: 10, completions: 100, windowMs: 10_000, oldestInFlightMs: 900, limit: 100 }, 1_100],
    ['falling behind: 100 in flight, 2/s', { inFlight: 99, completions: 20, windowMs: 10_000, oldestInFlightMs: 30_000, limit: 100 }, 50_000],
    ["nothing finishes: the oldest call's age", { inFlight: 3, completions: 0, windowMs: 10_000, oldestInFlightMs: 7_000, limit: 100 }, 7_000],
    [
      "fewer than MIN_COMPLETIONS finished: no more than the oldest waiting call's age",
      { inFlight: 49, completions: 9, windowMs: 2_000, oldestInFlightMs: 2_000, limit: 100 },
      2_000,
    ],
    ['fewer than MIN_COMPLETIONS, the rate says less', { inFlight: 1, completions: 5, windowMs: 5_000, oldestInFlightMs: 4_000, limit: 100 }, 2_000],
    ['a quiet pod whose only other call is a stream under way for 90 s', { inFlight: 1, completions: 2, windowMs: 10_000, oldestInFlightMs: 0, limit: 100 }, 0],
  ])('estimate: %s', (_, load, expected) => {
    expect(estimateAnswerMs(load)).toBe(expected);
  });

  it.each([
    ['keeps up', { inFlight: 10, completions: 100, windowMs: 10_000, oldestInFlightMs: 900, limit: 100 }, policy, { shed: false }],
    [
      'behind the deadline budget',
      { inFlight: 99, completions: 20, windowMs: 10_000, oldestInFlightMs: 30_000, limit: 100 },
      policy,
      { shed: true, reason: 'deadline', retryAfterMs: 20_000 },
    ],
    [
      'at the in-flight cap',
      { inFlight: 100, completions: 10_000, windowMs: 10_000, oldestInFlightMs: 10, limit: 100 },
      policy,
      { shed: true, reason: 'max_in_flight', retryAfterMs: 1_000 },
    ],
    [
      'at the adaptive limit: back when the calls in flight are answered (by the estimate)',
      { inFlight: 20, completions: 50, windowMs: 10_000, oldestInFlightMs: 3_000, limit: 20 },
      policy,
      { shed: true, reason: 'limit', retryAfterMs: 4_200 },
    ],
    [
      'at the adaptive limit, estimate under a second: retry after 1 s',
      { inFlight: 20, completions: 1_000, windowMs: 10_000, oldestInFlightMs: 300, limit: 20 },
      policy,
      { shed: true, reason: 'limit', retryAfterMs: 1_000 },
    ],
    [
      'at the adaptive limit with the limit off',
      { inFlight: 20, completions: 1_000, windowMs: 10_000, oldestInFlightMs: 300, limit: 20 },
      { ...policy, adaptive: false },
      { shed: false },
    ],
  ])('decision: %s', (_, load, p, expected) => {
    expect(decideShedding(load, 60_000, p)).toEqual(expect.objectContaining(expected));
  });

  it.each([
    ['the first attempt started 40 ms after admission', { cached: false, attempts: [{ startedAt: 1_040 }, { startedAt: 9_000 }] }, 40],
    ["a worker's clock a little behind: 0, not negative", { cached: false, attempts: [{ startedAt: 990 }] }, 0],
    ['a cache hit: no attempt of its own', { cached: true, attempts: [{ startedAt: 500 }] }, undefined],
    ['no attempt', { cached: false, attempts: [] }, undefined],
  ])('wait before the first attempt: %s', (_, result, expected) => {
    expect(waitBeforeFirstAttemptMs(result, 1_000)).toBe(expected);
  });

  it('measures in flight, the oldest call and completions in the window', () => {
    let now = 0;
    const limits = { initialLimit: 50, minLimit: 2, maxLimit: 100, queueDelayMs: 500, intervalMs: 1_000 };
    const gauge = createLoadGauge({ windowMs: 10_000, limits: () => limits, now: () => now, epochNow: () => 1e12 + now });
    const a = gauge.begin();
    expect(a.admittedAtEpochMs).toBe(1e12);
    now = 1_000;
    const b = gauge.begin();
    now = 3_000;
    expect(gauge.snapshot()).toEqual({ inFlight: 2, completions: 0, windowMs: 3_000, oldestInFlightMs: 3_000, limit: 50 });
    a.end();
    a.end(); // ending twice counts once
    expect(gauge.snapshot()).toEqual({ inFlight: 1, completions: 1, windowMs: 3_000, oldestInFlightMs: 2_000, limit: 50 });
    b.end();
    now = 20_000;
    // Idle for the whole window: no busy time in it (1 ms, the floor), no completion.
    expect(gauge.snapshot()).toEqual({ inFlight: 0, completions: 0, windowMs: 1, oldestInFlightMs: 0, limit: 50 });
    // Busy again: the rate counts only the busy part of the window.
    const c = gauge.begin();
    now = 22_000;
    c.end();
    now = 25_000;
    expect(gauge.snapshot()).toEqual({ inFlight: 0, completions: 1, windowMs: 2_000, oldestInFlightMs: 0, limit: 50 });
  });

  it('measures the completion rate over busy time, not over an idle window', () => {
    let now = 0;
    const limits = { initialLimit: 100, minLimit: 50, maxLimit: 1_000, queueDelayMs: 500, intervalMs: 1_000 };
    const gauge = createLoadGauge({ windowMs: 10_000, limits: () => limits, now: () => now });
    gauge.begin().end();
    // 9 idle seconds, then a closed loop of 50 starts; 400 ms later one of its calls has finished.
    now = 9_000;
    const calls = Array.from({ length: 50 }, () => gauge.begin());
    now = 9_400;
    calls[0]!.end();
    const load = gauge.snapshot();
    expect(load).toEqual(expect.objectContaining({ inFlight: 49, completions: 2, windowMs: 400 }));
    // Too few completions for a rate: the oldest call's age, 0.4 s.
    expect(estimateAnswerMs(load)).toBe(400);
    // Ten more finished by 1 s: 50 × 1 s ÷ 12, not 50 × 10 s ÷ 12 (42 s) as over the idle window.
    now = 10_000;
    for (const c of calls.slice(1, 11)) c.end();
    expect(estimateAnswerMs(gauge.snapshot())).toBeCloseTo((40 * 1_000) / 12);
    expect(decideShedding(load, 120_000, { shareOfDeadline: 0.5, maxInFlight: 1_000, adaptive: true }).shed).toBe(false);
  });

  it('leaves a call under way (a stream that sent its first token) out of the oldest waiting call', () => {
    let now = 0;
    const limits = { initialLimit: 100, minLimit: 50, maxLimit: 1_000, queueDelayMs: 500, intervalMs: 1_000 };
    const gauge = createLoadGauge({ windowMs: 10_000, limits: () => limits, now: () => now });
    const stream = gauge.begin();
    now = 1_000;
    stream.progressed();
    const waiting = gauge.begin();
    now = 90_000;
    expect(gauge.snapshot().oldestInFlightMs).toBe(89_000);
    waiting.end();
    // 90 s into a stream and nothing else in flight: no wait to speak of for a new call.
    expect(gauge.snapshot()).toEqual(expect.objectContaining({ inFlight: 1, oldestInFlightMs: 0 }));
    expect(decideShedding(gauge.snapshot(), 120_000, { shareOfDeadline: 0.5, maxInFlight: 1_000, adaptive: true }).shed).toBe(false);
  });

  it('knows when a call last got its answer (Temporal was answering then)', () => {
    let epoch = 5_000;
    const limits = { initialLimit: 100, minLimit: 50, maxLimit: 1_000, queueDelayMs: 500, intervalMs: 1_000 };
    const gauge = createLoadGauge({ windowMs: 10_000, limits: () => limits, epochNow: () => epoch });
    expect(gauge.answeredSince(0)).toBe(false);
    const call = gauge.begin();
    epoch = 6_000;
    call.answered(undefined);
    call.end();
    expect(gauge.answeredSince(6_000)).toBe(true);
    expect(gauge.answeredSince(6_001)).toBe(false);
  });

  it("feeds answered calls' waits to the adaptive limit", () => {
    let now = 0;
    const limits = { initialLimit: 8, minLimit: 2, maxLimit: 100, queueDelayMs: 500, intervalMs: 1_000 };
    const gauge = createLoadGauge({ windowMs: 10_000, limits: () => limits, now: () => now });
    const calls = Array.from({ length: 8 }, () => gauge.begin());
    now = 1_500;
    // Three answered without queueing, with 8 in flight: the limit grows.
    for (const c of calls.slice(0, 3)) c.answered(20);
    expect(gauge.snapshot().limit).toBe(10);
    // A call that ended unanswered reports nothing.
    calls[3]!.end();
    calls[3]!.answered(60_000);
    now = 3_000;
    for (const c of calls.slice(4, 7)) c.answered(5_000);
    expect(gauge.snapshot().limit).toBe(5);
  });
});

interface Outcome {
  status: number;
  ms: number;
  retryAfter: string | null;
  code: string | null;
  message: string | null;
}

async function call(url: string, text: string): Promise<Outcome> {
  const started = Date.now();
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tenantKeys.acme}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'solo-only', messages: [{ role: 'user', content: text }] }),
  });
  const body = (await response.json()) as { error?: { code: string | null; message: string } };
  const error = body.error;
  return {
    status: response.status,
    ms: Date.now() - started,
    retryAfter: response.headers.get('retry-after'),
    code: error?.code ?? null,
    message: error?.message ?? null,
  };
}

describe('load shedding on a capacity-bound stack', () => {
  const DEADLINE_MS = 20_000;
  let t: GatewayUnderTest;
  beforeAll(async () => {
    t = await startGateway({
      gateway: {
        deadlineMs: DEADLINE_MS,
        shedding: { shareOfDeadline: 0.25 },
        admission: { perTenant: {}, perKey: {}, anonymous: {}, segments: { untrusted: {}, trusted: {}, premium: {} } },
      },
      // Two attempts at a time (activity or local activity, whichever the attempt is): ~2 calls/s with a 1 s vendor.
      workerOptions: { maxConcurrentActivityTaskExecutions: 2, maxConcurrentLocalActivityExecutions: 2 },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses a burst beyond capacity fast with 503 and retry-after, and answers the admitted within their deadline', async () => {
    const m = `shed-${randomUUID().slice(0, 8)}`;
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m, fault: { kind: 'latency', ms: 1_000 } });
    // Steady load within capacity: the gateway learns how fast calls finish.
    const steady: Outcome[] = [];
    await Promise.all(
      [0, 1].map(async (n) => {
        for (let i = 0; i < 6; i++) steady.push(await call(t.url, `${m} steady ${n}-${i}`));
      }),
    );
    // 12 answered: enough completions (MIN_COMPLETIONS) for the gateway to know the rate.
    expect(steady.every((o) => o.status === 200)).toBe(true);

    // A burst of 40 at once: ~20 s of work for a stack that answers ~2 calls/s; the budget is a quarter of the 20 s deadline.
    const burst = await Promise.all(Array.from({ length: 40 }, (_, i) => call(t.url, `${m} burst ${i}`)));
    const refused = burst.filter((o) => o.status === 503);
    const answered = burst.filter((o) => o.status === 200);
    console.log(
      `burst of 40: ${answered.length} answered (max ${Math.max(...answered.map((o) => o.ms))} ms), ${refused.length} refused (max ${Math.max(...refused.map((o) => o.ms))} ms)`,
    );
    expect(answered.length + refused.length).toBe(40);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) {
      expect(r.code).toBe('overloaded');
      expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
      // Refused before anything ran: no waiting on the stack.
      expect(r.ms).toBeLessThan(2_000);
    }
    expect(answered.every((o) => o.ms < DEADLINE_MS)).toBe(true);
    // Nothing refused reached the vendor.
    expect(t.vendor.requests({ contains: [`${m} burst`] })).toHaveLength(answered.length);
    // Once the backlog clears, calls are admitted again.
    await eventually('admission after the burst', async () => ((await call(t.url, `${m} after`)).status === 200 ? true : undefined), 60_000);
  }, 120_000);

  describe('the adaptive limit', () => {
    // Two more gateways on the same worker, the deadline estimate out of the way (a 120 s deadline, all of it the budget):
    // one with the adaptive limit, one without, offered the same overload one after the other.
    const adaptiveLimit: AdaptiveLimitConfig = { enabled: true, initialLimit: 16, minLimit: 2, queueDelayMs: 300, intervalMs: 500 };
    const gateways: Array<{ gateway: Gateway; nats: NatsConnection; url: string }> = [];
    async function gatewayWith(limit: AdaptiveLimitConfig) {
      const shedding = { ...t.config.gateway.shedding, shareOfDeadline: 1, adaptiveLimit: limit };
      const config = { ...t.config, gateway: { ...t.config.gateway, deadlineMs: 120_000, shedding } };
      const nats = await connect({ servers: testStack().natsUrl, name: 'adaptive-limit-gateway' });
      const gateway = await createGateway({ config, client: t.client, nats, taskQueue: t.taskQueue, log: createLogger({ level: 'silent' }) });
      const started = { gateway, nats, url: await gateway.listen(0) };
      gateways.push(started);
      return started;
    }
    afterAll(async () => {
      for (const g of gateways) {
        await g.gateway.close(1_000);
        await g.nats.close();
      }
    });

    /** Twice the stack's ~2 calls/s for 20 s, open loop: each call is sent on time whatever the earlier ones are doing. */
    async function overload(url: string, m: string): Promise<Array<Outcome & { i: number }>> {
      const n = 80;
      return Promise.all(
        Array.from(
          { length: n },
          (_, i) =>
            new Promise<Outcome & { i: number }>((resolve, reject) => {
              setTimeout(() => call(url, `${m} ${i}`).then((o) => resolve({ ...o, i }), reject), i * 250);
            }),
        ),
      );
    }
    const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

    it('takes no long stream for overload: streams that last seconds at the vendor leave the limit as it was', async () => {
      const m = `long-stream-${randomUUID().slice(0, 8)}`;
      // Each stream sends two chunks, then nothing for 3 s (within the stall timeout), then the rest.
      t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m, fault: { kind: 'stream_stall', afterChunks: 2, stallMs: 3_000 } });
      const g = await gatewayWith({ ...adaptiveLimit, initialLimit: 4, minLimit: 1 });
      const streams: Array<{ status: number; ms: number; done: boolean }> = [];
      // Two clients, one stream at a time each: the worker's 2 slots, no queue.
      await Promise.all(
        [0, 1].map(async (n) => {
          for (let i = 0; i < 4; i++) {
            const started = Date.now();
            const response = await fetch(`${g.url}/v1/chat/completions`, {
              method: 'POST',
              headers: { authorization: `Bearer ${tenantKeys.acme}`, 'content-type': 'application/json' },
              body: JSON.stringify({ model: 'solo-only', stream: true, messages: [{ role: 'user', content: `${m} ${n}-${i}` }] }),
            });
            const text = await response.text();
            streams.push({ status: response.status, ms: Date.now() - started, done: text.includes('data: [DONE]') });
          }
        }),
      );
      console.log(
        `8 streams of ${Math.min(...streams.map((o) => o.ms))}–${Math.max(...streams.map((o) => o.ms))} ms; limit ${g.gateway.context.load.snapshot().limit}`,
      );
      expect(streams.map((o) => [o.status, o.done])).toEqual(Array(8).fill([200, true]));
      // Each call took far longer than queueDelayMs over the no-load wait, which whole-call latency would have taken for a queue.
      expect(Math.min(...streams.map((o) => o.ms))).toBeGreaterThan(3_000);
      // Revised (3 answered calls an interval), and grown: at least half of it was in use, nothing queued.
      expect(g.gateway.context.load.snapshot().limit).toBeGreaterThan(4);
    }, 120_000);

    it('refuses calls beyond what the stack answers without queueing, fast and with retry-after, while the admitted keep their latency', async () => {
      const m = `limit-${randomUUID().slice(0, 8)}`;
      t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m, fault: { kind: 'latency', ms: 1_000 } });
      const limited = await gatewayWith(adaptiveLimit);
      const unlimited = await gatewayWith({ ...adaptiveLimit, enabled: false });

      // A closed loop of 2 clients keeps the worker's 2 slots busy without a queue: nothing refused, the no-load wait learnt.
      const steady: Outcome[] = [];
      await Promise.all(
        [0, 1].map(async (n) => {
          for (let i = 0; i < 5; i++) steady.push(await call(limited.url, `${m} steady ${n}-${i}`));
        }),
      );
      expect(steady.map((o) => o.status)).toEqual(Array(10).fill(200));

      // Without the limit every call is admitted and the queue grows for as long as the overload lasts.
      const queued = await overload(unlimited.url, `${m} unlimited`);
      expect(queued.map((o) => o.status)).toEqual(Array(80).fill(200));

      const shed = await overload(limited.url, `${m} limited`);
      const answered = shed.filter((o) => o.status === 200);
      const refused = shed.filter((o) => o.status !== 200);
      const lateP50 = (os: Array<Outcome & { i: number }>) => p50(os.filter((o) => o.status === 200 && o.i >= 40).map((o) => o.ms));
      console.log(
        `2x overload: without the limit all 80 answered, late p50 ${lateP50(queued)} ms; with it ${answered.length} answered (late p50 ${lateP50(shed)} ms), ` +
          `${refused.length} refused (p50 ${refused.length ? p50(refused.map((o) => o.ms)) : '-'} ms), limit now ${limited.gateway.context.load.snapshot().limit}`,
      );
      expect(refused.length).toBeGreaterThan(0);
      for (const r of refused) {
        expect(r).toEqual(expect.objectContaining({ status: 503, code: 'overloaded' }));
        expect(r.message).toMatch(/calls in flight in this gateway, the most it admits while calls queue/);
        expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
      }
      // The limit shrank below where it started; refused calls never reached the vendor.
      expect(limited.gateway.context.load.snapshot().limit).toBeLessThan(adaptiveLimit.initialLimit);
      expect(t.vendor.requests({ contains: [`${m} limited`] })).toHaveLength(answered.length);
      // Refused before anything ran: most refusals come back before the quickest answer (1 s at the vendor alone).
      expect(p50(refused.map((o) => o.ms))).toBeLessThan(Math.min(...answered.map((o) => o.ms)));
      // The calls admitted in the second half waited far less than the same calls without the limit.
      expect(lateP50(shed) * 2).toBeLessThan(lateP50(queued));
      // Once the load is gone, calls are admitted again.
      await eventually('admission after the overload', async () => ((await call(limited.url, `${m} after`)).status === 200 ? true : undefined), 60_000);
    }, 240_000);
  });
});
