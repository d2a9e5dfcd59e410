/**
 * Load shedding. The pure estimate and decision, table-driven; then a
 * capacity-bound stack (a worker with 2 attempt slots, a vendor that takes
 * 1 s): at steady load every call is answered, and a burst far beyond
 * capacity is refused fast with 503 + retry-after while the admitted calls
 * keep answering well within their deadline — instead of every caller
 * waiting to the deadline.
 */
import { randomUUID } from 'node:crypto';
import { createLoadGauge, decideShedding, estimateAnswerMs } from '../../lib/admission/load-shedding';
import { startGateway, tenantKeys, type GatewayUnderTest } from '../harness/gateway';
import { eventually } from '../harness/switchboard';

const policy = { shareOfDeadline: 0.5, maxInFlight: 100 };

describe('load shedding (pure)', () => {
  it.each([
    ['idle', { inFlight: 0, completions: 0, windowMs: 10_000, oldestInFlightMs: 0 }, 0],
    ['keeping up: 10 in flight, 10/s', { inFlight: 10, completions: 100, windowMs: 10_000, oldestInFlightMs: 900 }, 1_100],
    ['falling behind: 100 in flight, 2/s', { inFlight: 99, completions: 20, windowMs: 10_000, oldestInFlightMs: 30_000 }, 50_000],
    ["nothing finishes: the oldest call's age", { inFlight: 3, completions: 0, windowMs: 10_000, oldestInFlightMs: 7_000 }, 7_000],
  ])('estimate: %s', (_, load, expected) => {
    expect(estimateAnswerMs(load)).toBe(expected);
  });

  it.each([
    ['keeps up', { inFlight: 10, completions: 100, windowMs: 10_000, oldestInFlightMs: 900 }, { shed: false }],
    [
      'behind the deadline budget',
      { inFlight: 99, completions: 20, windowMs: 10_000, oldestInFlightMs: 30_000 },
      { shed: true, reason: 'deadline', retryAfterMs: 20_000 },
    ],
    [
      'at the in-flight cap',
      { inFlight: 100, completions: 10_000, windowMs: 10_000, oldestInFlightMs: 10 },
      { shed: true, reason: 'max_in_flight', retryAfterMs: 1_000 },
    ],
  ])('decision: %s', (_, load, expected) => {
    expect(decideShedding(load, 60_000, policy)).toEqual(expect.objectContaining(expected));
  });

  it('measures in flight, the oldest call and completions in the window', () => {
    let now = 0;
    const gauge = createLoadGauge(10_000, () => now);
    const endA = gauge.begin();
    now = 1_000;
    const endB = gauge.begin();
    now = 3_000;
    expect(gauge.snapshot()).toEqual({ inFlight: 2, completions: 0, windowMs: 3_000, oldestInFlightMs: 3_000 });
    endA();
    endA(); // ending twice counts once
    expect(gauge.snapshot()).toEqual({ inFlight: 1, completions: 1, windowMs: 3_000, oldestInFlightMs: 2_000 });
    endB();
    now = 20_000;
    expect(gauge.snapshot()).toEqual({ inFlight: 0, completions: 0, windowMs: 10_000, oldestInFlightMs: 0 });
  });
});

interface Outcome {
  status: number;
  ms: number;
  retryAfter: string | null;
  code: string | null;
}

async function call(url: string, text: string): Promise<Outcome> {
  const started = Date.now();
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tenantKeys.acme}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'solo-only', messages: [{ role: 'user', content: text }] }),
  });
  const body = (await response.json()) as { error?: { code: string | null } };
  return { status: response.status, ms: Date.now() - started, retryAfter: response.headers.get('retry-after'), code: body.error?.code ?? null };
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
        for (let i = 0; i < 4; i++) steady.push(await call(t.url, `${m} steady ${n}-${i}`));
      }),
    );
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
});
