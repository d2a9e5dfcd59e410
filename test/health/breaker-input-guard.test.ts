import { asBreakerInput } from '../../lib/health/breaker-input-guard';
import { BreakerInput } from '../../schemas/health';

const evidence = { consecutiveFailures: 3, calls: 3, failures: 3, failureRate: 1, slowCalls: 0, recentErrors: [] };
const trip = { kind: 'trip', signal: { upstream: 'openai/a', kind: 'consecutive_failures', detail: '3 consecutive failures', evidence, evidenceAt: 1, at: 2 } };

describe("asBreakerInput (the supervisor's zod-free signal check)", () => {
  it.each([
    ['a trip', trip],
    ['an elapsed cooldown', { kind: 'cooldown_elapsed' }],
    ['a probe result', { kind: 'probe_result', ok: false, error: { at: 1, outcome: 'retryable', status: 503 } }],
    ['a probe result of a revision', { kind: 'probe_result', ok: true, revision: 7 }],
    ['an expired half-open period', { kind: 'probe_expired', revision: 7 }],
    ['an operator action', { kind: 'operator', action: 'open', reason: 'vendor incident' }],
  ])('accepts %s, as the zod schema does', (_name, input) => {
    expect(BreakerInput.safeParse(input).success).toBe(true);
    expect(asBreakerInput(input)).toBe(input);
  });

  it.each([
    ['nothing', undefined],
    ['a string', 'trip'],
    ['an unknown kind', { kind: 'explode' }],
    ['a trip without a signal', { kind: 'trip' }],
    ['a trip of an unknown kind', { kind: 'trip', signal: { ...trip.signal, kind: 'bad_luck' } }],
    ['a trip without evidence', { kind: 'trip', signal: { ...trip.signal, evidence: undefined } }],
    ['a probe result without ok', { kind: 'probe_result' }],
    ['a probe result with a revision that is no number', { kind: 'probe_result', ok: true, revision: 'r7' }],
    ['an expired half-open period without its revision', { kind: 'probe_expired' }],
    ['an operator action that is not open/close/auto', { kind: 'operator', action: 'reboot', reason: 'x' }],
    ['an operator action without a reason', { kind: 'operator', action: 'close' }],
  ])('drops %s, as the zod schema does', (_name, input) => {
    expect(BreakerInput.safeParse(input).success).toBe(false);
    expect(asBreakerInput(input)).toBeUndefined();
  });
});
