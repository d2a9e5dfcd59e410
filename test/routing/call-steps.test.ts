import { maskingOf } from '../../lib/call/masking';
import { cacheQueryOf, openCall, type OpenCall } from '../../lib/call/open';
import { restoreResult } from '../../lib/call/privacy';
import { answeredOutcome, cacheableAnswer, cachedResult } from '../../lib/call/result';
import * as callSteps from '../../lib/call/steps';
import { IN_ATTEMPT_WAIT_MAX_MS } from '../../lib/routing/retry-plan';
import type { AttemptFailureDetails, AttemptSuccess, CallPlan } from '../../schemas/call';
import { RetryConfig } from '../../schemas/config';
import { CacheConfig, OutputValidation, PiiConfig } from '../../schemas/validation';
import { failureTypes } from '../../contracts/failures';

const START = 1_000_000;

function planOf(overrides: Partial<CallPlan> = {}): CallPlan {
  return {
    entries: [
      { provider: 'openai', model: 'gpt-4o-mini', upstreamCount: 1 },
      { provider: 'anthropic', model: 'claude-haiku-4-5', upstreamCount: 1, prompt: 'support' },
    ],
    retry: RetryConfig.parse({ initialIntervalMs: 100, maxIntervalMs: 2_000, maxAttemptsPerEntry: 3, maxAttempts: 10 }),
    attemptTimeoutMs: 10_000,
    heartbeatMs: 5_000,
    callTimeoutMs: 60_000,
    cache: CacheConfig.parse({}),
    pii: PiiConfig.parse({ enabled: false }),
    ...overrides,
  };
}

function callOf(plan: CallPlan, request: Partial<OpenCall['request']> = {}): OpenCall {
  return openCall(
    { callId: 'call-1', request: { route: 'chat', tenant: 't', stream: false, messages: [{ role: 'user', content: 'Hello' }], ...request } },
    plan,
    undefined,
    { workflowId: 'call-1', startedAt: START },
  );
}

const invalid = (n: number): AttemptFailureDetails => ({
  outcome: 'invalid_output',
  errorType: 'json_parse',
  message: 'not JSON',
  upstream: 'openai/org-a',
  promptVariant: 'none',
  latencyMs: 5,
  startedAt: START + n,
  repair: { answer: `answer ${n}`, instruction: 'Reply with JSON only.' },
});
const retryable = (upstream: string): AttemptFailureDetails => ({
  outcome: 'retryable',
  errorType: 'server_error',
  status: 500,
  message: 'boom',
  upstream,
  promptVariant: 'none',
  latencyMs: 5,
  startedAt: START,
});
const success = (upstream: string, extra: Partial<AttemptSuccess> = {}): AttemptSuccess => ({
  upstream,
  promptVariant: 'none',
  text: '{"ok":true}',
  finishReason: 'stop',
  usage: { inputTokens: 3, outputTokens: 4 },
  model: 'm',
  latencyMs: 40,
  startedAt: START + 10,
  ...extra,
});

/** Runs the reducer over a script of attempt outcomes, as the workflow would; returns the steps taken and how it ended. */
function run(call: OpenCall, script: Array<AttemptFailureDetails | AttemptSuccess>, o: { child?: boolean } = {}) {
  let state: callSteps.CallState = callSteps.startCallState();
  const steps: callSteps.AttemptStep[] = [];
  const nexts: string[] = [];
  for (const outcome of script) {
    const begun = callSteps.beginAttempt(call, state, { now: START, child: o.child ?? false });
    state = begun.state;
    steps.push(begun.step);
    if ('text' in outcome) return { steps, nexts, state, result: callSteps.afterAnswer(call, state, begun.step, outcome, START + 100) };
    const decided = callSteps.afterFailure(call, state, begun.step, outcome, { now: START, random01: 0 });
    state = decided.state;
    nexts.push(decided.next.kind);
    if (decided.next.kind === 'give_up') return { steps, nexts, state, gaveUp: decided.next };
  }
  throw new Error('script ended before the call did');
}

describe('call steps: repairs', () => {
  const call = callOf(planOf({ validation: OutputValidation.parse({ json: true, repairAttempts: 2 }) }));

  it('repairs on the same entry with the rejected answer and the instruction as the next turns', () => {
    const r = run(call, [invalid(1), success('openai/org-a')]);
    expect(r.nexts).toEqual(['repair']);
    expect(r.steps[1]!.entry.provider).toBe('openai');
    expect(r.steps[1]!.input.request.messages.slice(1)).toEqual([
      { role: 'assistant', content: 'answer 1' },
      { role: 'user', content: 'Reply with JSON only.' },
    ]);
    expect(r.result!.validation).toBe('repaired');
  });

  it('reports a clean answer from the fallback as passed after the repairs on the primary ran out (the carried-over flag)', () => {
    const r = run(call, [invalid(1), invalid(2), invalid(3), success('anthropic/org-a')]);
    expect(r.nexts).toEqual(['repair', 'repair', 'attempt']);
    expect(r.steps.map((s) => s.entry.provider)).toEqual(['openai', 'openai', 'openai', 'anthropic']);
    // The fallback's request carries none of the primary's repair turns.
    expect(r.steps[3]!.input.request.messages).toEqual(call.request.messages);
    expect(r.result!.validation).toBe('passed');
    expect(r.result!.provider).toBe('anthropic');
    expect(r.result!.attempts.map((a) => a.outcome)).toEqual(['invalid_output', 'invalid_output', 'invalid_output', 'success']);
  });

  it('still reports a repair that happened on the fallback itself', () => {
    const r = run(call, [invalid(1), invalid(2), invalid(3), invalid(4), success('anthropic/org-a')]);
    expect(r.result!.validation).toBe('repaired');
  });

  it('stops repairing when the call is out of attempts', () => {
    const tight = callOf(
      planOf({ validation: OutputValidation.parse({ json: true, repairAttempts: 5 }), retry: RetryConfig.parse({ maxAttempts: 2, maxAttemptsPerEntry: 3 }) }),
    );
    const r = run(tight, [invalid(1), invalid(2)]);
    expect(r.nexts).toEqual(['repair', 'give_up']);
    expect(r.gaveUp!.failureType).toBe(failureTypes.exhausted);
  });
});

describe('call steps: attempts', () => {
  it('runs the first attempt locally and every later one as an ordinary activity', () => {
    const r = run(callOf(planOf()), [retryable('openai/org-a'), success('openai/org-a')]);
    expect(r.steps.map((s) => s.local)).toEqual([true, false]);
    expect(r.steps.map((s) => s.input.attempt)).toEqual([1, 2]);
  });

  it("runs a chain's child call's first attempt as an ordinary activity too", () => {
    const r = run(callOf(planOf()), [success('openai/org-a')], { child: true });
    expect(r.steps.map((s) => s.local)).toEqual([false]);
  });

  it('bounds an attempt by the deadline and puts a short backoff inside the next attempt', () => {
    const call = callOf(planOf(), { deadlineMs: 4_000 });
    const begun = callSteps.beginAttempt(call, callSteps.startCallState(), { now: START, child: false });
    const first = begun.step;
    expect(first.input.attemptTimeoutMs).toBe(4_000);
    const decided = callSteps.afterFailure(call, begun.state, first, retryable('openai/org-a'), { now: START, random01: 0.5 });
    expect(decided.next).toMatchObject({ kind: 'attempt', delayMs: 50 });
    const state = decided.state;
    expect(callSteps.timerBeforeNextAttempt(state)).toBe(0);
    const second = callSteps.beginAttempt(call, state, { now: START + 1_000, child: false }).step;
    expect(second.input.waitMs).toBe(50);
    expect(second.input.attemptTimeoutMs).toBe(3_000);
    expect(second.activityTimeoutMs).toBe(50 + 3_000 + 5_000);
  });

  it('waits a long backoff on a durable timer', () => {
    const state: callSteps.CallState = { ...callSteps.startCallState(), next: { entryIndex: 0, exclude: [], delayMs: IN_ATTEMPT_WAIT_MAX_MS + 1 } };
    expect(callSteps.timerBeforeNextAttempt(state)).toBe(IN_ATTEMPT_WAIT_MAX_MS + 1);
  });

  it("gives up with the retry plan's type and keeps every attempt in the log", () => {
    const call = callOf(planOf({ entries: [{ provider: 'openai', model: 'gpt-4o-mini', upstreamCount: 1 }] }));
    const r = run(call, [retryable('openai/org-a'), retryable('openai/org-a'), retryable('openai/org-a')]);
    expect(r.nexts).toEqual(['attempt', 'attempt', 'give_up']);
    expect(r.gaveUp!.failureType).toBe(failureTypes.exhausted);
    expect(r.state.attempts.map((a) => [a.attempt, a.outcome, a.status])).toEqual([
      [1, 'retryable', 500],
      [2, 'retryable', 500],
      [3, 'retryable', 500],
    ]);
  });

  it("measures latency and TTFT with the attempt's own clock (workflow time stands still in one task)", () => {
    const call = callOf(planOf(), { stream: true });
    const r = run(call, [success('openai/org-a', { startedAt: START + 10, latencyMs: 40, ttftMs: 12 })]);
    // The workflow's clock says START + 100 at the end, the attempt's START + 50: the later one counts.
    expect(r.result!.latencyMs).toBe(100);
    expect(r.result!.ttftMs).toBe(22);
    expect(answeredOutcome(r.result!)).toBe('success');
  });
});

describe('call steps: the second look', () => {
  const call = callOf(planOf({ validation: OutputValidation.parse({ secondLook: true }) }));
  const answer = success('openai/org-a', { text: 'Paris is in Spain.' });

  it('reviews with one more counted attempt on the same entry, and turns a REJECT into a repair', () => {
    const begun = callSteps.beginAttempt(call, callSteps.startCallState(), { now: START, child: false });
    const review = callSteps.beginReview(call, begun.state, begun.step, answer)!;
    expect(review.input.attempt).toBe(2);
    expect(review.input.request.stream).toBe(false);
    expect(review.input.request.messages.at(-1)!.content).toContain('Paris is in Spain.');
    const rejection = callSteps.reviewRejection(answer, 'REJECT: Paris is in France.')!;
    expect(rejection).toMatchObject({ outcome: 'invalid_output', errorType: 'second_look_rejected', repair: { answer: 'Paris is in Spain.' } });
    expect(rejection.repair!.instruction).toContain('Paris is in France');
    const decided = callSteps.afterFailure(call, review.state, begun.step, rejection, { now: START, random01: 0 });
    expect(decided.next.kind).toBe('repair');
    expect(decided.state.attempts.map((a) => a.attempt)).toEqual([2]);
  });

  it('approves anything but a clear REJECT, and skips tool calls', () => {
    expect(callSteps.reviewRejection(answer, 'APPROVE')).toBeUndefined();
    expect(callSteps.reviewRejection(answer, 'looks fine to me')).toBeUndefined();
    const begun = callSteps.beginAttempt(call, callSteps.startCallState(), { now: START, child: false });
    expect(callSteps.beginReview(call, begun.state, begun.step, { ...answer, toolCalls: [{ id: 'c', name: 'f', arguments: '{}' }] })).toBeUndefined();
    expect(callSteps.beginReview(callOf(planOf()), begun.state, begun.step, answer)).toBeUndefined();
  });
});

describe('call results', () => {
  it('serves a cache hit at no cost, with no attempts, and keeps structured output only when asked', () => {
    const hit = { ...success('openai/org-a'), provider: 'openai', output: { ok: true }, storedAt: 1, expiresAt: 2 };
    const plain = cachedResult(callOf(planOf()), hit, START + 7);
    expect(plain).toMatchObject({ cached: true, costUsd: 0, attempts: [], validation: 'none', latencyMs: 7 });
    expect(plain).not.toHaveProperty('output');
    expect(answeredOutcome(plain)).toBe('cache_hit');
    const structured = cachedResult(callOf(planOf(), { output: { name: 'x', schema: {} } }), hit, START);
    expect(structured.output).toEqual({ ok: true });
  });

  it('keeps only the answer in the cache', () => {
    const r = run(callOf(planOf()), [success('openai/org-a', { costUsd: 0.1 })]);
    expect(Object.keys(cacheableAnswer(r.result!)).sort()).toEqual(['finishReason', 'model', 'promptVariant', 'provider', 'text', 'upstream', 'usage']);
  });

  it('names a call answered after a failure recovered', () => {
    const r = run(callOf(planOf()), [retryable('openai/org-a'), success('openai/org-a')]);
    expect(answeredOutcome(r.result!)).toBe('recovered');
  });
});

describe('call masking', () => {
  const request = {
    route: 'chat',
    tenant: 't',
    stream: false,
    messages: [{ role: 'user' as const, content: 'Mail ada@example.com about the invoice' }],
    userInput: 'ada@example.com',
  };

  it('masks in the activity and applies the same placeholders in the workflow: vendors, the cache question and the user input see no PII; the answer is restored', () => {
    const plan = planOf({ pii: PiiConfig.parse({}), cache: CacheConfig.parse({ exact: { enabled: true } }) });
    const masking = maskingOf(request, 'call-1', plan.pii)!;
    expect(masking.entities).toHaveLength(1);
    const call = openCall({ callId: 'call-1', request }, plan, masking, { workflowId: 'call-1', startedAt: START });
    expect(call.request.messages[0]!.content).not.toContain('ada@example.com');
    expect(call.request.userInput).toBe(call.request.messages[0]!.content.match(/\[\[[^\]]+\]\]/)![0]);
    expect(call.asked).toBe(request);
    expect(JSON.stringify(call.cacheQuery!.request)).not.toContain('ada@example.com');
    // The activity's cache question and the workflow's are the same question.
    expect(cacheQueryOf('call-1', plan, call.masked)).toEqual(call.cacheQuery);
    const r = run(call, [success('openai/org-a', { text: `Sent to ${call.request.userInput}` })]);
    expect(restoreResult(r.result!, call.masked.entities).text).toBe('Sent to ada@example.com');
  });

  it('changes nothing (and carries no texts) when nothing is found or PII handling is off', () => {
    const plain = { ...request, messages: [{ role: 'user' as const, content: 'Hello there' }], userInput: 'Hello there' };
    const masking = maskingOf(plain, 'call-1', PiiConfig.parse({}))!;
    expect(masking).toEqual({ entities: [], nonce: expect.any(String) });
    expect(openCall({ callId: 'call-1', request: plain }, planOf(), masking, { workflowId: 'call-1', startedAt: START }).request).toBe(plain);
    expect(maskingOf(request, 'call-1', PiiConfig.parse({ enabled: false }))).toBeUndefined();
  });
});

describe("call steps: reading a lost attempt's answer back", () => {
  const call = callOf(planOf());
  const lost = (upstream: string): AttemptFailureDetails => ({
    outcome: 'retryable',
    errorType: 'activity_timeout',
    message: 'activity timed out',
    upstream,
    promptVariant: 'unknown',
    latencyMs: 0,
    startedAt: START,
  });

  it('asks the attempt after a lost one to read the journal first, and no other attempt', () => {
    const r = run(call, [retryable('openai/org-a'), lost('openai/org-b'), success('openai/org-c')]);
    expect(r.steps.map((s) => s.input.readBack ?? false)).toEqual([false, false, true]);
  });

  it('asks the first attempt to read it when the workflow task it runs in was tried before', () => {
    expect(callSteps.beginAttempt(call, callSteps.startCallState(), { now: START, child: false, readBack: true }).step.input.readBack).toBe(true);
    expect(callSteps.beginAttempt(call, callSteps.startCallState(), { now: START, child: false }).step.input.readBack).toBeUndefined();
  });
});

describe('call steps: a stream broken after its first token', () => {
  const cut = (upstream: string, streamed: string): AttemptFailureDetails => ({
    outcome: 'retryable',
    errorType: 'stream_interrupted',
    message: 'cut',
    upstream,
    promptVariant: 'none',
    latencyMs: 5,
    startedAt: START,
    streamed,
  });

  it('is continued by the next attempts from the text its caller has, and the answer says it resumed', () => {
    const call = callOf(planOf({ midStream: 'resume' }), { stream: true });
    const r = run(call, [
      cut('openai/org-a', 'alpha beta'),
      cut('openai/org-b', 'alpha beta gamma'),
      success('openai/org-c', { text: 'alpha beta gamma delta' }),
    ]);
    expect(r.steps.map((s) => s.input.resume?.text)).toEqual([undefined, 'alpha beta', 'alpha beta gamma']);
    expect(r.result!.attempts.at(-1)).toMatchObject({ outcome: 'success', resumedFromChars: 'alpha beta gamma'.length });
  });

  it('is not continued on a route with midStream: error, nor for a call that does not stream', () => {
    const strict = run(callOf(planOf({ midStream: 'error' }), { stream: true }), [cut('openai/org-a', 'alpha'), success('openai/org-b')]);
    expect(strict.steps.map((s) => s.input.resume)).toEqual([undefined, undefined]);
    const plain = run(callOf(planOf({}), { stream: false }), [cut('openai/org-a', 'alpha'), success('openai/org-b')]);
    expect(plain.steps[1]!.input.resume).toBeUndefined();
  });
});
