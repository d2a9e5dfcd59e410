/**
 * Per-failure-class budgets, short Retry-After waits and short backoffs on the real stack:
 * a silent primary (no headers) or a slow first token moves the call to the
 * fallback at once — one request to the primary, an answer within the limit
 * plus a margin — and a short `retry-after` is waited out once on the
 * primary instead of falling back; a 100 ms backoff is 100 ms, not the dev
 * server's ~1 s timer tick.
 */
import { randomUUID } from 'node:crypto';
import { startSwitchboard, type SwitchboardUnderTest } from '../harness/switchboard';

const marker = (name: string) => `${name}-m${randomUUID().slice(0, 8)}`;
const ask = (text: string) => [{ role: 'user' as const, content: text }];
const LIMIT_MS = 10_000;
const BACKOFF_MS = 100;
const primaryThenFallback = [
  { provider: 'solo', model: 'gpt-4o-mini' },
  { provider: 'anthropic', model: 'claude-haiku-4-5' },
];

describe('failure classes and short retry-after', () => {
  let t: SwitchboardUnderTest;
  beforeAll(async () => {
    t = await startSwitchboard({
      configOverrides: {
        routes: {
          'silent-primary': { attemptTimeoutMs: LIMIT_MS, entries: primaryThenFallback },
          'slow-primary': { entries: primaryThenFallback },
          'short-wait': { entries: primaryThenFallback },
        },
        gateway: { streams: { 'slow-primary': { mode: 'relay', firstTokenTimeoutMs: LIMIT_MS, stallTimeoutMs: 5_000 } } },
        // Breakers stay out of the way: these tests pin down the retry plan.
        health: { consecutiveFailures: 10_000, minCallsForRate: 10_000, rateLimitPersistCount: 10_000 },
        // Every backoff at most 100 ms (full jitter: uniform in [0, 100]).
        retry: { initialIntervalMs: BACKOFF_MS, maxIntervalMs: BACKOFF_MS, backoffCoefficient: 1, maxAttemptsPerEntry: 3, maxAttempts: 10 },
      },
    });
  });
  afterAll(async () => {
    await t?.close();
  });
  afterEach(() => t.vendor.clearFaults());

  it(`answers from the fallback within ${LIMIT_MS / 1000} s + 5 s when the primary never sends headers, asking the primary once`, async () => {
    const m = marker('silent');
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m, fault: { kind: 'hang' } });
    const started = Date.now();
    const result = await t.sb.complete({ route: 'silent-primary', messages: ask(`Anyone there ${m}`) });
    expect(Date.now() - started).toBeLessThan(LIMIT_MS + 5_000);
    expect(result.provider).toBe('anthropic');
    expect(result.attempts.map((a) => [a.provider, a.outcome])).toEqual([
      ['solo', 'retryable'],
      ['anthropic', 'success'],
    ]);
    expect(t.vendor.requests({ contains: [m] }).map((r) => r.organisation)).toEqual(['openai/org-s', 'anthropic/org-a']);
  }, 30_000);

  it(`answers a stream from the fallback within ${LIMIT_MS / 1000} s + 5 s when the primary's first token is late, asking the primary once`, async () => {
    const m = marker('slow-ttft');
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m, fault: { kind: 'slow_first_token', ttftMs: 40_000 } });
    const started = Date.now();
    const result = await t.sb.complete({ route: 'slow-primary', stream: true, messages: ask(`Tell me ${m}`) });
    expect(Date.now() - started).toBeLessThan(LIMIT_MS + 5_000);
    expect(result.provider).toBe('anthropic');
    expect(result.attempts[0]).toMatchObject({ provider: 'solo', outcome: 'retryable', errorType: 'first_token_timeout' });
    expect(t.vendor.requests({ contains: [m] }).map((r) => r.organisation)).toEqual(['openai/org-s', 'anthropic/org-a']);
  }, 30_000);

  it(`honours a ${BACKOFF_MS} ms backoff inside the next attempt, never on a workflow timer a tick later`, async () => {
    const gaps: number[] = [];
    for (let i = 0; i < 5; i++) {
      const m = marker(`backoff${i}`);
      t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m, times: 1, fault: { kind: 'status', status: 503 } });
      const result = await t.sb.complete({ route: 'short-wait', messages: ask(`Hi ${m}`) });
      expect(result.attempts.map((a) => [a.provider, a.outcome])).toEqual([
        ['solo', 'retryable'],
        ['solo', 'success'],
      ]);
      const seen = t.vendor.requests({ contains: [m] });
      expect(seen.map((r) => r.status)).toEqual([503, 200]);
      gaps.push(seen[1]!.time - seen[0]!.time);
      // The wait ran inside the retry's activity (a precise sleep), not as a durable timer on the dev server's ~1 s tick.
      const events = (await t.client.workflow.getHandle(result.workflowId).fetchHistory()).events ?? [];
      expect(events.filter((e) => e.timerStartedEventAttributes)).toHaveLength(0);
    }
    // The gap is the backoff (uniform in [0, 100] ms) plus one workflow task and one activity dispatch: ~150 ms on a
    // quiet machine, where a timer made it ≥ 1 s. The median stays below that tick also on a loaded one (204 ms seen
    // at load average 13); what proves the mechanism is the history above, not this figure.
    const median = [...gaps].sort((a, b) => a - b)[2]!;
    console.log(`backoff ${BACKOFF_MS} ms: retry gaps ${gaps.join(', ')} ms (median ${median})`);
    expect(median).toBeLessThan(1_000);
  }, 60_000);

  it('waits a 2 s retry-after once on the primary rather than falling back', async () => {
    const m = marker('short-429');
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m, times: 1, fault: { kind: 'rate_limit', retryAfterSeconds: 2 } });
    const result = await t.sb.complete({ route: 'short-wait', messages: ask(`Hi ${m}`) });
    expect(result.provider).toBe('solo');
    const seen = t.vendor.requests({ contains: [m] });
    expect(seen.map((r) => [r.organisation, r.status])).toEqual([
      ['openai/org-s', 429],
      ['openai/org-s', 200],
    ]);
    expect(seen[1]!.time - seen[0]!.time).toBeGreaterThanOrEqual(2_000);
  }, 30_000);

  it('falls back at once on a retry-after longer than the threshold', async () => {
    const m = marker('long-429');
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m, fault: { kind: 'rate_limit', retryAfterSeconds: 20 } });
    const result = await t.sb.complete({ route: 'short-wait', messages: ask(`Hi ${m}`) });
    expect(result.provider).toBe('anthropic');
    const seen = t.vendor.requests({ contains: [m] });
    expect(seen.map((r) => [r.organisation, r.status])).toEqual([
      ['openai/org-s', 429],
      ['anthropic/org-a', 200],
    ]);
    expect(seen[1]!.time - seen[0]!.time).toBeLessThan(2_000);
  }, 30_000);
});
