/**
 * Per-failure-class budgets and short Retry-After waits on the real stack:
 * a silent primary (no headers) or a slow first token moves the call to the
 * fallback at once — one request to the primary, an answer within the limit
 * plus a margin — and a short `retry-after` is waited out once on the
 * primary instead of falling back.
 */
import { randomUUID } from 'node:crypto';
import { startSwitchboard, type SwitchboardUnderTest } from '../harness/switchboard';

const marker = (name: string) => `${name}-m${randomUUID().slice(0, 8)}`;
const ask = (text: string) => [{ role: 'user' as const, content: text }];
const LIMIT_MS = 10_000;
const primaryThenFallback = [{ provider: 'solo', model: 'gpt-4o-mini' }, { provider: 'anthropic', model: 'claude-haiku-4-5' }];

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
    expect(result.attempts.map((a) => [a.provider, a.outcome])).toEqual([['solo', 'retryable'], ['anthropic', 'success']]);
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

  it('waits a 2 s retry-after once on the primary rather than falling back', async () => {
    const m = marker('short-429');
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m, times: 1, fault: { kind: 'rate_limit', retryAfterSeconds: 2 } });
    const result = await t.sb.complete({ route: 'short-wait', messages: ask(`Hi ${m}`) });
    expect(result.provider).toBe('solo');
    const seen = t.vendor.requests({ contains: [m] });
    expect(seen.map((r) => [r.organisation, r.status])).toEqual([['openai/org-s', 429], ['openai/org-s', 200]]);
    expect(seen[1]!.time - seen[0]!.time).toBeGreaterThanOrEqual(2_000);
  }, 30_000);

  it('falls back at once on a retry-after longer than the threshold', async () => {
    const m = marker('long-429');
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m, fault: { kind: 'rate_limit', retryAfterSeconds: 20 } });
    const result = await t.sb.complete({ route: 'short-wait', messages: ask(`Hi ${m}`) });
    expect(result.provider).toBe('anthropic');
    const seen = t.vendor.requests({ contains: [m] });
    expect(seen.map((r) => [r.organisation, r.status])).toEqual([['openai/org-s', 429], ['anthropic/org-a', 200]]);
    expect(seen[1]!.time - seen[0]!.time).toBeLessThan(2_000);
  }, 30_000);
});
