import fc from 'fast-check';
import {
  breakerKeyOf,
  breakerKeyOfSignal,
  effectiveBreaker,
  emptyHealth,
  evaluateTrip,
  foldCallEvent,
  initialBreakerState,
  isModelKey,
  modelOfKey,
  transitionBreaker,
  upstreamHealth,
  upstreamOfKey,
} from '../../lib/health';
import type { BreakerState, TripSignal } from '../../schemas/health';
import { at, breakerPolicy, healthPolicy, t0 } from './call-events';

const upstream = 'openai/org-a';

describe('breaker keys', () => {
  it.each([
    [undefined, 'openai/org-a'],
    ['gpt-4o-mini', 'openai/org-a/gpt-4o-mini'],
    ['gpt-4.1', 'openai/org-a/gpt-4=2E1'],
    ['meta-llama/Llama-3-70b', 'openai/org-a/meta-llama=2FLlama-3-70b'],
    ['anthropic.claude-v2:1', 'openai/org-a/anthropic=2Eclaude-v2=3A1'],
    ['mödel x', 'openai/org-a/m=C3=B6del=20x'],
  ])('model %s → %s', (model, key) => {
    expect(breakerKeyOf(upstream, model)).toBe(key);
    expect(upstreamOfKey(key)).toBe(upstream);
    expect(modelOfKey(key)).toBe(model);
    expect(isModelKey(key)).toBe(model !== undefined);
    // A valid NATS KV key and a single subject token.
    expect(key).toMatch(/^[-/_=A-Za-z0-9]+$/);
  });

  it('round-trips every model name, and two models never share a key', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40, unit: 'binary' }), fc.string({ minLength: 1, maxLength: 40, unit: 'binary' }), (a, b) => {
        expect(modelOfKey(breakerKeyOf(upstream, a))).toBe(a);
        expect(breakerKeyOf(upstream, a) === breakerKeyOf(upstream, b)).toBe(a === b);
      }),
    );
  });
});

describe('trip scope: account faults eject the upstream, other faults one model', () => {
  it.each([
    ['three 503s in a row', [at(0, 'retryable'), at(10, 'retryable'), at(20, 'retryable')], 'consecutive_failures', 'model', 'openai/org-a/gpt-test'],
    ['a 401 (account locked)', [at(0, 'fatal_upstream')], 'fatal', 'upstream', 'openai/org-a'],
  ] as const)('%s', (_name, events, kind, scope, key) => {
    const state = events.reduce((s, e) => foldCallEvent(s, e, healthPolicy), emptyHealth());
    const last = events.at(-1)!;
    const signal = evaluateTrip(upstreamHealth(state, breakerKeyOf(upstream, 'gpt-test'), last.at, healthPolicy), healthPolicy, last.at, last)!;
    expect(signal).toMatchObject({ kind, scope, upstream, model: 'gpt-test' });
    expect(breakerKeyOfSignal(signal)).toBe(key);
  });
});

describe('the breaker state machine at two levels', () => {
  const signal = (scope: 'upstream' | 'model', model = 'gpt-test'): TripSignal => ({
    upstream,
    model,
    scope,
    kind: scope === 'upstream' ? 'fatal' : 'consecutive_failures',
    detail: 'x',
    evidenceAt: t0,
    at: t0,
    evidence: { consecutiveFailures: 3, calls: 3, failures: 3, failureRate: 1, slowCalls: 0, rateLimited: 0, recentErrors: [] },
  });
  it.each([
    ["the upstream's own breaker opens on an account trip", undefined, signal('upstream'), true],
    ["the upstream's own breaker ignores a model trip", undefined, signal('model'), false],
    ["a model's breaker opens on its model's trip", 'gpt-test', signal('model'), true],
    ["a model's breaker ignores another model's trip", 'gpt-test', signal('model', 'other'), false],
    ["a model's breaker ignores an account trip (the upstream's own takes it)", 'gpt-test', signal('upstream'), false],
  ])('%s', (_name, model, trip, opens) => {
    const from = initialBreakerState(upstream, t0 - 1, model);
    const step = transitionBreaker(from, { kind: 'trip', signal: trip }, breakerPolicy, t0, 0.5);
    expect(step.state.state).toBe(opens ? 'open' : 'closed');
    if (opens) expect(step.event).toMatchObject({ upstream, ...(model ? { model } : {}), transition: 'opened' });
    if (opens) expect(step.state.model).toBe(model);
  });
});

describe('effectiveBreaker: a pick obeys the stricter of the account and the model', () => {
  const b = (state: BreakerState['state'], extra: Partial<BreakerState> = {}): BreakerState => ({
    upstream,
    state,
    since: t0,
    consecutiveTrips: 1,
    revision: 1,
    ...extra,
  });
  it.each([
    ['neither written', undefined, undefined, undefined],
    ['only the account', b('open'), undefined, 'account'],
    ['only the model', undefined, b('half_open', { model: 'm' }), 'model'],
    ['account open beats model closed', b('open'), b('closed', { model: 'm' }), 'account'],
    ['model open beats account closed', b('closed'), b('open', { model: 'm' }), 'model'],
    ['forced_open beats open', b('open'), b('forced_open', { model: 'm' }), 'model'],
    ['open beats forced_closed', b('forced_closed'), b('open', { model: 'm' }), 'model'],
    ['both open: the later reopen', b('open', { reopenAt: t0 + 5 }), b('open', { model: 'm', reopenAt: t0 + 9 }), 'model'],
    ['both half-open: the account is probed first', b('half_open'), b('half_open', { model: 'm' }), 'account'],
  ] as const)('%s', (_name, account, model, expected) => {
    const effective = effectiveBreaker(account, model);
    expect(effective).toBe(expected === 'account' ? account : expected === 'model' ? model : undefined);
  });
});
