import fc from 'fast-check';
import type { AttemptOutcome, CallEvent } from '../../schemas/call-event';
import { BreakerPolicy, HealthPolicy } from '../../schemas/health';

export const healthPolicy = HealthPolicy.parse({});
export const breakerPolicy = BreakerPolicy.parse({});

/** A window-aligned epoch ms far from zero, so "before the window" is a real time. */
export const t0 = 1_700_000_000_000;

let sequence = 0;

/** A CallEvent for `upstream`, fast and successful unless overridden. */
export function callEvent(overrides: Partial<CallEvent> = {}): CallEvent {
  sequence += 1;
  return {
    eventId: `ev-${sequence}`,
    callId: `call-${sequence}`,
    workflowId: `wf-${sequence}`,
    attempt: 1,
    at: t0,
    tenant: 'default',
    route: 'chat-default',
    provider: 'openai',
    upstream: 'openai/org-a',
    model: 'gpt-test',
    promptVariant: 'default',
    outcome: 'success',
    latencyMs: 100,
    ...overrides,
  };
}

/** Shorthand: an event of `outcome` at `t0 + offsetMs`. */
export function at(offsetMs: number, outcome: AttemptOutcome = 'success', overrides: Partial<CallEvent> = {}): CallEvent {
  return callEvent({ at: t0 + offsetMs, outcome, ...(outcome === 'success' ? {} : { status: statusOf(outcome) }), ...overrides });
}

function statusOf(outcome: AttemptOutcome): number | undefined {
  return { success: 200, retryable: 503, rate_limited: 429, fatal_upstream: 401, caller_fault: 400, invalid_output: 200, internal: 200 }[outcome];
}

export const outcomes: readonly AttemptOutcome[] = ['success', 'retryable', 'rate_limited', 'fatal_upstream', 'caller_fault', 'invalid_output', 'internal'];

/** Arbitrary events on one upstream within `spanMs` after t0. */
export function arbitraryEvent(spanMs: number, outcome: fc.Arbitrary<AttemptOutcome> = fc.constantFrom(...outcomes)): fc.Arbitrary<CallEvent> {
  return fc
    .record({
      offset: fc.integer({ min: 0, max: spanMs }),
      outcome,
      latencyMs: fc.integer({ min: 1, max: 60_000 }),
      ttftMs: fc.option(fc.integer({ min: 1, max: 20_000 }), { nil: undefined }),
    })
    .map(({ offset, outcome: o, latencyMs, ttftMs }) => at(offset, o, { latencyMs, ...(ttftMs !== undefined && { ttftMs }) }));
}
