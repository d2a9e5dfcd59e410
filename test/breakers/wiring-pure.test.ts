/**
 * The small pure pieces of the breaker wiring: the smooth draw over scores,
 * the panic step of the retry plan, the CLI's status table and the webhook
 * message.
 */
import fc from 'fast-check';
import { parseConfig } from '../../lib/config/load';
import { breakerTargetsOf } from '../../lib/health-registry/breaker-targets';
import { createSmoothDraw } from '../../lib/upstreams/smooth-draw';
import { breakerWebhookMessage } from '../../lib/health-registry/webhook';
import { countAttempt, initialRetryState, planNextAttempt } from '../../lib/routing/retry-plan';
import type { AttemptFailureDetails, CallPlan } from '../../schemas/call';
import { RetryConfig } from '../../schemas/config';
import type { BreakerEvent, BreakerState } from '../../schemas/health';
import { formatStatusTable, statusRows } from '../../services/cli/status-table';
import { failureTypes } from '../../contracts/failures';

describe('smooth draw', () => {
  it('gives each candidate exactly its share of the scores over a cycle', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 6 }), (weights) => {
        const draw = createSmoothDraw();
        const scored = weights.map((score, i) => ({ id: `u${i}`, score }));
        const total = weights.reduce((a, b) => a + b, 0);
        const counts = weights.map(() => 0);
        for (let i = 0; i < total * 3; i++) counts[draw(scored)]! += 1;
        expect(counts).toEqual(weights.map((w) => w * 3));
      }),
    );
  });

  it('interleaves instead of bursting', () => {
    const draw = createSmoothDraw();
    const scored = [
      { id: 'a', score: 2 },
      { id: 'b', score: 1 },
      { id: 'c', score: 1 },
    ];
    expect(Array.from({ length: 8 }, () => scored[draw(scored)]!.id).join('')).toBe('abcaabca');
  });
});

describe('the panic step of the retry plan', () => {
  // Only the fields the retry plan reads; the rest of CallPlan does not matter here.
  const plan = {
    entries: [
      { provider: 'openai', model: 'gpt-4o-mini', upstreamCount: 2 },
      { provider: 'anthropic', model: 'claude-haiku-4-5', upstreamCount: 1 },
    ],
    retry: RetryConfig.parse({ maxAttempts: 10 }),
    attemptTimeoutMs: 10_000,
    heartbeatMs: 5_000,
    callTimeoutMs: 60_000,
  } as CallPlan;
  const none: AttemptFailureDetails = {
    outcome: 'no_upstream',
    errorType: 'no_upstream',
    message: 'all open',
    promptVariant: 'none',
    latencyMs: 0,
    startedAt: 0,
  };
  const decide = (state: ReturnType<typeof initialRetryState>) =>
    planNextAttempt({ plan, state: countAttempt(state), failure: none, now: 0, deadlineAt: 60_000, random01: 0.5 });

  it('falls back first, panics from the primary when the last entry has nothing, and gives up after a panic pass', () => {
    const first = decide(initialRetryState());
    expect(first.step).toMatchObject({ kind: 'attempt', entryIndex: 1 });
    expect(first.state.panic).toBeUndefined();
    const second = decide(first.state);
    expect(second.step).toMatchObject({ kind: 'attempt', entryIndex: 0 });
    expect(second.state.panic).toBe(true);
    const third = decide(second.state);
    expect(third.step).toMatchObject({ kind: 'attempt', entryIndex: 1 });
    const fourth = decide(third.state);
    expect(fourth.step).toMatchObject({ kind: 'give_up', failureType: failureTypes.exhausted });
  });
});

describe('switchboard status', () => {
  it('shows state, reopen time, error rate, latency and headroom per upstream and per model', () => {
    const now = Date.UTC(2026, 0, 1, 12, 0, 0);
    const config = parseConfig(
      {
        providers: {
          openai: {
            protocol: 'openai',
            baseUrl: 'http://127.0.0.1:1/v1',
            upstreams: [
              { name: 'org-a', apiKeyEnv: 'K' },
              { name: 'org-b', apiKeyEnv: 'K', models: ['gpt-4o'] },
            ],
          },
        },
        routes: {
          r: {
            entries: [
              { provider: 'openai', model: 'gpt-4o' },
              { provider: 'openai', model: 'gpt-4.1' },
            ],
          },
        },
      },
      'test',
    );
    const targets = breakerTargetsOf(config);
    expect(targets.map((t) => t.key)).toEqual(['openai/org-a', 'openai/org-a/gpt-4o', 'openai/org-a/gpt-4=2E1', 'openai/org-b', 'openai/org-b/gpt-4o']);
    const modelOpen: BreakerState = {
      upstream: 'openai/org-a',
      model: 'gpt-4.1',
      state: 'open',
      since: now - 1_000,
      reopenAt: now + 4_000,
      consecutiveTrips: 1,
      revision: 1,
      reason: '3 consecutive failures',
    };
    const accountOpen: BreakerState = {
      upstream: 'openai/org-b',
      state: 'open',
      since: now - 1_000,
      reopenAt: now + 9_000,
      consecutiveTrips: 1,
      revision: 1,
      reason: 'fatal error: 401',
    };
    const health = (model: string, calls: number, failures: number, latencyEwmaMs?: number) => ({
      upstream: 'openai/org-a',
      model,
      calls,
      failures,
      failureRate: failures / calls,
      consecutiveFailures: failures,
      slowCalls: 0,
      slowCallRate: 0,
      rateLimited: 0,
      rateLimitStrikes: 0,
      neutralCalls: 0,
      ...(latencyEwmaMs ? { latencyEwmaMs, headroom: 0.75 } : {}),
      recentErrors: [],
    });
    const byKey = new Map([
      ['openai/org-a/gpt-4o', health('gpt-4o', 10, 0, 412.4)],
      ['openai/org-a/gpt-4=2E1', health('gpt-4.1', 3, 3)],
    ]);
    const rows = statusRows(
      targets,
      new Map([
        ['openai/org-a/gpt-4=2E1', modelOpen],
        ['openai/org-b', accountOpen],
      ]),
      byKey,
    );
    expect(rows).toEqual([
      { upstream: 'openai/org-a', state: 'closed', calls: 13, errorRate: 3 / 13, consecutiveFailures: 3 },
      { upstream: 'openai/org-a', model: 'gpt-4o', state: 'closed', calls: 10, errorRate: 0, consecutiveFailures: 0, latencyMs: 412, headroom: 0.75 },
      {
        upstream: 'openai/org-a',
        model: 'gpt-4.1',
        state: 'open',
        reopenAt: now + 4_000,
        calls: 3,
        errorRate: 1,
        consecutiveFailures: 3,
        reason: '3 consecutive failures',
      },
      { upstream: 'openai/org-b', state: 'open', reopenAt: now + 9_000, calls: 0, errorRate: 0, consecutiveFailures: 0, reason: 'fatal error: 401' },
      { upstream: 'openai/org-b', model: 'gpt-4o', state: 'closed', calls: 0, errorRate: 0, consecutiveFailures: 0 },
    ]);
    const table = formatStatusTable(rows, now).split('\n');
    expect(table[0]).toMatch(/^UPSTREAM\s+MODEL\s+STATE\s+REOPENS\s+CALLS\s+ERRORS\s+LATENCY\s+HEADROOM\s+REASON$/);
    expect(table[1]).toMatch(/^openai\/org-a\s+\(account\)\s+closed\s+-\s+13\s+23%\s+-\s+-$/);
    expect(table[2]).toMatch(/^\s+gpt-4o\s+closed\s+-\s+10\s+0%\s+412 ms\s+75%$/);
    expect(table[3]).toContain('12:00:04 (in 4.0s)');
  });
});

describe('breaker webhook', () => {
  it('is Slack-compatible: text plus a mrkdwn section, with the transition and the evidence', () => {
    const event: BreakerEvent = {
      upstream: 'openai/org-a',
      transition: 'opened',
      from: 'closed',
      to: 'open',
      at: 0,
      reason: '3 consecutive failures',
      cause: 'consecutive_failures',
      revision: 1,
      evidence: { consecutiveFailures: 3, calls: 3, failures: 3, failureRate: 1, slowCalls: 0, rateLimited: 0, recentErrors: [], reopenAt: 5_000 },
    };
    const message = breakerWebhookMessage(event, 'prod');
    expect(message.text).toBe(':red_circle: breaker opened for openai/org-a (cluster prod): 3 consecutive failures, half-open at 1970-01-01T00:00:05.000Z');
    expect(message.blocks).toEqual([
      { type: 'section', text: { type: 'mrkdwn', text: expect.stringContaining('closed → open · calls 3, failures 3, consecutive 3') } },
    ]);
    expect(breakerWebhookMessage({ ...event, model: 'gpt-4o' }).text).toMatch(/^:red_circle: breaker opened for openai\/org-a model gpt-4o: /);
  });
});
