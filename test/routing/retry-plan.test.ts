import fc from 'fast-check';
import {
  backoffMs,
  countAttempt,
  failureClassOf,
  IN_ATTEMPT_WAIT_MAX_MS,
  initialRetryState,
  MIN_RATE_LIMIT_BACKOFF_MS,
  placeWait,
  planNextAttempt,
  type RetryState,
} from '../../lib/routing/retry-plan';
import type { AttemptFailureDetails, CallPlan } from '../../schemas/call';
import { RetryConfig } from '../../schemas/config';
import { CacheConfig, PiiConfig } from '../../schemas/validation';
import { failureTypes } from '../../contracts/failures';
import type { AttemptErrorType } from '../../contracts/failures';

const plan: CallPlan = {
  entries: [
    { provider: 'openai', model: 'gpt-4o-mini', upstreamCount: 3, contextTokens: 8_000 },
    { provider: 'anthropic', model: 'claude-haiku-4-5', upstreamCount: 1, contextTokens: 200_000 },
  ],
  retry: RetryConfig.parse({ initialIntervalMs: 100, maxIntervalMs: 2_000, maxAttemptsPerEntry: 3, maxAttempts: 10 }),
  attemptTimeoutMs: 10_000,
  heartbeatMs: 5_000,
  callTimeoutMs: 60_000,
  cache: CacheConfig.parse({}),
  pii: PiiConfig.parse({}),
};
const NOW = 1_000_000;

/** A plausible error type per outcome, when a case names none. */
const typicalErrorType: Record<AttemptFailureDetails['outcome'], AttemptErrorType> = {
  retryable: 'server_error',
  rate_limited: 'rate_limit_exceeded',
  fatal_upstream: 'account_locked',
  caller_fault: 'invalid_request',
  invalid_output: 'validation_json_schema',
  internal: 'internal_check',
  no_upstream: 'no_upstream',
};

function failure(outcome: AttemptFailureDetails['outcome'], upstream: string | undefined, extra: Partial<AttemptFailureDetails> = {}): AttemptFailureDetails {
  return {
    outcome,
    errorType: extra.errorType ?? typicalErrorType[outcome],
    message: 'boom',
    promptVariant: 'none',
    latencyMs: 5,
    startedAt: NOW,
    ...(upstream ? { upstream } : {}),
    ...extra,
  };
}

function decide(state: RetryState, f: AttemptFailureDetails, now = NOW, random01 = 0.5) {
  return planNextAttempt({ plan, state: countAttempt(state), failure: f, now, deadlineAt: now + 60_000, random01 });
}

describe('planNextAttempt', () => {
  it('walks through every upstream of the pool before repeating one, then falls back', () => {
    let r = decide(initialRetryState(), failure('retryable', 'openai/org-a'));
    expect(r.step).toMatchObject({ kind: 'attempt', entryIndex: 0, exclude: ['openai/org-a'] });
    r = decide(r.state, failure('retryable', 'openai/org-b'));
    expect(r.step).toMatchObject({ kind: 'attempt', entryIndex: 0, exclude: ['openai/org-a', 'openai/org-b'] });
    r = decide(r.state, failure('retryable', 'openai/org-c'));
    expect(r.step).toMatchObject({ kind: 'attempt', entryIndex: 1, exclude: [], delayMs: 0 });
  });

  it('excludes a fatally failed upstream for the rest of the call, without delay', () => {
    const r = decide(initialRetryState(), failure('fatal_upstream', 'openai/org-a', { errorType: 'account_locked' }));
    expect(r.step).toMatchObject({ kind: 'attempt', entryIndex: 0, exclude: ['openai/org-a'], delayMs: 0 });
    expect(r.state.fatal).toEqual({ openai: ['openai/org-a'] });
  });

  it('moves on at once when every upstream of the pool is locked', () => {
    let state = initialRetryState();
    for (const org of ['openai/org-a', 'openai/org-b']) state = decide(state, failure('fatal_upstream', org)).state;
    const r = decide(state, failure('fatal_upstream', 'openai/org-c'));
    expect(r.step).toMatchObject({ kind: 'attempt', entryIndex: 1, delayMs: 0 });
  });

  it('cools a rate-limited upstream until its retry-after and uses the others meanwhile', () => {
    const r = decide(initialRetryState(), failure('rate_limited', 'openai/org-a', { retryAfterMs: 2_000 }));
    expect(r.step).toMatchObject({ kind: 'attempt', entryIndex: 0, exclude: ['openai/org-a'], delayMs: 0 });
    expect(r.state.coolingUntil['openai/org-a']).toBe(NOW + 2_000);
  });

  it('waits out retry-after when no other upstream or fallback is left', () => {
    const solo: CallPlan = { ...plan, entries: [{ provider: 'solo', model: 'm', upstreamCount: 1 }] };
    const r = planNextAttempt({
      plan: solo,
      state: countAttempt(initialRetryState()),
      failure: failure('rate_limited', 'solo/org-s', { retryAfterMs: 2_000 }),
      now: NOW,
      deadlineAt: NOW + 60_000,
      random01: 0.1,
    });
    expect(r.step).toMatchObject({ kind: 'attempt', entryIndex: 0, delayMs: 2_000, exclude: [] });
  });

  it("waits a bare 429 out at least as long as selection avoids the upstream (the plan's rateLimitWaitMs)", () => {
    const solo: CallPlan = { ...plan, rateLimitWaitMs: 1_000, entries: [{ provider: 'solo', model: 'm', upstreamCount: 1 }] };
    const r = planNextAttempt({
      plan: solo,
      state: countAttempt(initialRetryState()),
      failure: failure('rate_limited', 'solo/org-s'),
      now: NOW,
      deadlineAt: NOW + 60_000,
      random01: 0.1,
    });
    expect(r.step).toMatchObject({ kind: 'attempt', entryIndex: 0, delayMs: 1_000, exclude: [] });
  });

  it('gives up on a retry-after longer than it is willing to wait', () => {
    const solo: CallPlan = { ...plan, entries: [{ provider: 'solo', model: 'm', upstreamCount: 1 }] };
    const r = planNextAttempt({
      plan: solo,
      state: countAttempt(initialRetryState()),
      failure: failure('rate_limited', 'solo/org-s', { retryAfterMs: 600_000 }),
      now: NOW,
      deadlineAt: NOW + 3_600_000,
      random01: 0.1,
    });
    expect(r.step).toMatchObject({ kind: 'give_up', failureType: failureTypes.exhausted });
  });

  it.each([
    [0, { timerMs: 0, inAttemptMs: 0 }],
    [55, { timerMs: 0, inAttemptMs: 55 }],
    [IN_ATTEMPT_WAIT_MAX_MS - 1, { timerMs: 0, inAttemptMs: IN_ATTEMPT_WAIT_MAX_MS - 1 }],
    [IN_ATTEMPT_WAIT_MAX_MS, { timerMs: IN_ATTEMPT_WAIT_MAX_MS, inAttemptMs: 0 }],
    [30_000, { timerMs: 30_000, inAttemptMs: 0 }],
  ])('a wait of %i ms goes to %j (short ones inside the attempt, long ones on a durable timer)', (delayMs, expected) => {
    expect(placeWait(delayMs)).toEqual(expected);
  });

  describe('failure classes: a silent or stalled upstream is not retried in the same call (by default)', () => {
    // The primary's pool has one upstream, the fallback is healthy: the usual shape of "primary silent".
    const single: CallPlan = { ...plan, entries: [{ provider: 'openai', model: 'gpt-4o-mini', upstreamCount: 1 }, plan.entries[1]!] };
    const decideOn = (p: CallPlan, state: RetryState, f: AttemptFailureDetails) =>
      planNextAttempt({ plan: p, state: countAttempt(state), failure: f, now: NOW, deadlineAt: NOW + 60_000, random01: 0.5 });

    it.each([
      ['retryable', 'first_token_timeout', 'silent'],
      ['retryable', 'timeout', 'silent'],
      ['retryable', 'stream_stalled', 'stall'],
      ['retryable', 'server_error', undefined],
      ['retryable', 'connection', undefined],
      ['retryable', 'stream_interrupted', undefined],
      ['rate_limited', 'timeout', undefined],
    ] as const)('%s %s → %s', (outcome, errorType, expected) => {
      expect(failureClassOf({ outcome, errorType })).toBe(expected);
    });

    it.each(['first_token_timeout', 'timeout', 'stream_stalled'] as const)('%s on a one-upstream primary → the fallback at once', (errorType) => {
      const r = decideOn(single, initialRetryState(), failure('retryable', 'openai/org-a', { errorType }));
      expect(r.step).toMatchObject({ kind: 'attempt', entryIndex: 1, delayMs: 0 });
      expect(r.state.fatal).toEqual({ openai: ['openai/org-a'] });
    });

    it('walks a silent pool at once, never the same upstream twice, then falls back', () => {
      let r = decide(initialRetryState(), failure('retryable', 'openai/org-a', { errorType: 'first_token_timeout' }));
      expect(r.step).toMatchObject({ kind: 'attempt', entryIndex: 0, exclude: ['openai/org-a'], delayMs: 0 });
      r = decide(r.state, failure('retryable', 'openai/org-b', { errorType: 'stream_stalled' }));
      expect(r.step).toMatchObject({ kind: 'attempt', entryIndex: 0, exclude: ['openai/org-a', 'openai/org-b'], delayMs: 0 });
      r = decide(r.state, failure('retryable', 'openai/org-c', { errorType: 'first_token_timeout' }));
      expect(r.step).toMatchObject({ kind: 'attempt', entryIndex: 1, exclude: [], delayMs: 0 });
    });

    it('gives up rather than retry a silent upstream when nothing else is left', () => {
      const solo: CallPlan = { ...plan, entries: [{ provider: 'solo', model: 'm', upstreamCount: 1 }] };
      expect(decideOn(solo, initialRetryState(), failure('retryable', 'solo/org-s', { errorType: 'first_token_timeout' })).step).toMatchObject({
        kind: 'give_up',
        failureType: failureTypes.exhausted,
      });
    });

    it('keeps transient failures on the backoff, and a class budget above 0 retries the upstream that many times', () => {
      expect(decideOn(single, initialRetryState(), failure('retryable', 'openai/org-a', { errorType: 'server_error' })).step).toMatchObject({
        kind: 'attempt',
        entryIndex: 0,
        delayMs: 50,
      });
      const patient: CallPlan = { ...single, retry: { ...single.retry, sameUpstreamRetries: { silent: 1, stall: 0 } } };
      let r = decideOn(patient, initialRetryState(), failure('retryable', 'openai/org-a', { errorType: 'first_token_timeout' }));
      expect(r.step).toMatchObject({ kind: 'attempt', entryIndex: 0, delayMs: 50 });
      r = decideOn(patient, r.state, failure('retryable', 'openai/org-a', { errorType: 'first_token_timeout' }));
      expect(r.step).toMatchObject({ kind: 'attempt', entryIndex: 1, delayMs: 0 });
    });
  });

  describe('short retry-after: waited out once on the same vendor before falling back', () => {
    const single: CallPlan = { ...plan, entries: [{ provider: 'openai', model: 'gpt-4o-mini', upstreamCount: 1 }, plan.entries[1]!] };
    const rateLimited = (retryAfterMs?: number) => failure('rate_limited', 'openai/org-a', retryAfterMs === undefined ? {} : { retryAfterMs });
    const decideOn = (p: CallPlan, state: RetryState, f: AttemptFailureDetails, deadlineInMs = 60_000) =>
      planNextAttempt({ plan: p, state: countAttempt(state), failure: f, now: NOW, deadlineAt: NOW + deadlineInMs, random01: 0.5 });

    it('waits a 2 s retry-after once on the primary, and falls back on the second', () => {
      const r = decideOn(single, initialRetryState(), rateLimited(2_000));
      expect(r.step).toMatchObject({ kind: 'attempt', entryIndex: 0, delayMs: 2_000, exclude: [] });
      expect(decideOn(single, r.state, rateLimited(2_000)).step).toMatchObject({ kind: 'attempt', entryIndex: 1, delayMs: 0 });
    });

    it.each([
      ['a retry-after past the threshold', single, rateLimited(5_000), 60_000],
      ['no retry-after at all', single, rateLimited(), 60_000],
      ['a wait that would pass the deadline', single, rateLimited(2_000), 1_500],
      ['the threshold turned off', { ...single, retry: { ...single.retry, shortRetryAfterMs: 0 } }, rateLimited(2_000), 60_000],
    ] as const)('falls back at once on %s', (_name, p, f, deadlineInMs) => {
      expect(decideOn(p, initialRetryState(), f, deadlineInMs).step).toMatchObject({ kind: 'attempt', entryIndex: 1, delayMs: 0 });
    });

    it('still prefers another upstream of the pool, with no wait', () => {
      expect(decide(initialRetryState(), failure('rate_limited', 'openai/org-a', { retryAfterMs: 2_000 })).step).toMatchObject({
        kind: 'attempt',
        entryIndex: 0,
        delayMs: 0,
        exclude: ['openai/org-a'],
      });
    });
  });

  it.each([
    ['context_length_exceeded', { kind: 'attempt', entryIndex: 1 }],
    ['content_policy_violation', { kind: 'give_up', failureType: failureTypes.contentPolicy }],
    ['invalid_request', { kind: 'give_up', failureType: failureTypes.invalidRequest }],
    ['model_not_found', { kind: 'attempt', entryIndex: 1 }],
  ] as const)('caller fault %s → %j', (errorType, expected) => {
    expect(decide(initialRetryState(), failure('caller_fault', 'openai/org-a', { errorType })).step).toMatchObject(expected);
  });

  it('gives up at once on our own failure after the vendor answered: no other upstream, no fallback', () => {
    const r = decide(initialRetryState(), failure('internal', 'openai/org-a', { errorType: 'internal_check', message: 'validator broke' }));
    expect(r.step).toMatchObject({ kind: 'give_up', failureType: failureTypes.internal });
    expect(r.step.kind === 'give_up' && r.step.reason).toContain('validator broke');
  });

  it('gives up on context length when no entry has a larger context', () => {
    const small: CallPlan = { ...plan, entries: [plan.entries[1]!, plan.entries[0]!] };
    const r = planNextAttempt({
      plan: small,
      state: countAttempt(initialRetryState()),
      failure: failure('caller_fault', 'anthropic/org-a', { errorType: 'context_length_exceeded' }),
      now: NOW,
      deadlineAt: NOW + 60_000,
      random01: 0,
    });
    expect(r.step).toMatchObject({ kind: 'give_up', failureType: failureTypes.contextLength });
  });

  it('falls back when the activity found no usable upstream', () => {
    expect(decide(initialRetryState(), failure('no_upstream', undefined)).step).toMatchObject({ kind: 'attempt', entryIndex: 1 });
  });

  it('gives up when the deadline leaves no room for the backoff', () => {
    const r = planNextAttempt({
      plan,
      state: countAttempt(countAttempt(initialRetryState())),
      failure: failure('retryable', 'openai/org-a'),
      now: NOW,
      deadlineAt: NOW + 10,
      random01: 1,
    });
    expect(r.step).toMatchObject({ kind: 'give_up', failureType: failureTypes.deadline });
  });

  it('never exceeds maxAttempts, whatever fails', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom<AttemptFailureDetails['outcome']>('retryable', 'rate_limited', 'fatal_upstream', 'invalid_output'), {
          minLength: 1,
          maxLength: 30,
        }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (outcomes, random01) => {
          let state = initialRetryState();
          let now = NOW;
          let attempts = 0;
          for (const outcome of outcomes) {
            state = countAttempt(state);
            attempts++;
            const entry = plan.entries[state.entryIndex]!;
            const r = planNextAttempt({
              plan,
              state,
              failure: failure(outcome, `${entry.provider}/org-${attempts % entry.upstreamCount}`),
              now,
              deadlineAt: NOW + 3_600_000,
              random01,
            });
            if (r.step.kind === 'give_up') break;
            state = r.state;
            now += r.step.delayMs;
          }
          expect(attempts).toBeLessThanOrEqual(plan.retry.maxAttempts + 1);
          expect(state.totalAttempts).toBeLessThanOrEqual(plan.retry.maxAttempts);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('backoffMs', () => {
  it('is full jitter below an exponentially growing, capped ceiling', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.double({ min: 0, max: 1, noNaN: true }), (attempt, random01) => {
        const ceiling = Math.min(plan.retry.maxIntervalMs, plan.retry.initialIntervalMs * 2 ** (attempt - 1));
        const delay = backoffMs(attempt, plan.retry, random01);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(ceiling);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps a 429 storm without retry-after to a few attempts a second', () => {
    const solo: CallPlan = { ...plan, entries: [{ provider: 'solo', model: 'm', upstreamCount: 1 }] };
    const r = planNextAttempt({
      plan: solo,
      state: countAttempt(initialRetryState()),
      failure: failure('rate_limited', 'solo/org-s'),
      now: NOW,
      deadlineAt: NOW + 60_000,
      random01: 0,
    });
    expect(r.step).toMatchObject({ kind: 'attempt', delayMs: MIN_RATE_LIMIT_BACKOFF_MS });
  });
});
