/**
 * The llmCall workflow on the real stack: Temporal dev server, nats-server,
 * the fake vendor over HTTP. Assertions read what the vendor saw and what
 * landed on JetStream, not only the return value.
 */
import { randomUUID } from 'node:crypto';
import { isSwitchboardCallError, type SwitchboardCallError } from '../../lib/client';
import { JSONCodec } from 'nats';
import { streams } from '../../lib/nats/streams';
import { Interaction } from '../../schemas/interaction';
import { failureTypes } from '../../contracts/failures';
import { callWorkflowId, interactionSubject } from '../../contracts/names';
import { eventually, readCallEvents, startSwitchboard, type SwitchboardUnderTest } from '../harness/switchboard';

// The letter keeps a marker from ever looking like PII: `503-12345678` is a phone number, masked before the
// vendor sees it, and a fault matched on it would then never fire (a 2 % flake until this was understood).
const marker = (name: string) => `${name}-m${randomUUID().slice(0, 8)}`;
const ask = (text: string) => [{ role: 'user' as const, content: text }];

async function callError(promise: Promise<unknown>): Promise<SwitchboardCallError> {
  try {
    await promise;
  } catch (error) {
    if (isSwitchboardCallError(error)) return error;
    throw error;
  }
  throw new Error('the call succeeded; a failure was expected');
}

describe('llmCall workflow', () => {
  let t: SwitchboardUnderTest;

  beforeAll(async () => {
    // Breakers stay out of the way here: these tests pin down the workflow's own retry and fallback logic.
    t = await startSwitchboard({ configOverrides: { health: { consecutiveFailures: 10_000, minCallsForRate: 10_000, rateLimitPersistCount: 10_000 } } });
  });
  afterAll(async () => {
    await t?.close();
  });
  afterEach(() => {
    t.vendor.clearFaults();
  });

  it('answers through the primary vendor and records the attempt, the usage and the cost', async () => {
    const m = marker('plain');
    const result = await t.sb.complete({ route: 'chat-default', messages: ask(`Say hello ${m}`), tenant: 'acme', user: 'u-1', feature: 'greeting' });
    expect(result.provider).toBe('openai');
    expect(result.model).toBe('gpt-4o-mini');
    expect(result.upstream).toMatch(/^openai\/org-[abc]$/);
    expect(result.text.length).toBeGreaterThan(0);
    expect(result.usage.outputTokens).toBeGreaterThan(0);
    expect(result.costUsd).toBeGreaterThan(0);
    expect(result.attempts).toEqual([
      expect.objectContaining({ attempt: 1, outcome: 'success', upstream: result.upstream, promptVariant: 'assistant:default' }),
    ]);

    const seen = t.vendor.requests({ contains: [m], includePrompt: true });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.organisation).toBe(result.upstream);
    expect(seen[0]!.promptText).toContain('You are a concise assistant.');

    const description = await t.client.workflow.getHandle(result.workflowId).describe();
    const attrs = description.searchAttributes as Record<string, unknown[]>;
    expect(attrs.SbTenant).toEqual(['acme']);
    expect(attrs.SbUser).toEqual(['u-1']);
    expect(attrs.SbFeature).toEqual(['greeting']);
    expect(attrs.SbRoute).toEqual(['chat-default']);
    expect(attrs.SbProvider).toEqual(['openai']);
    expect(attrs.SbUpstream).toEqual([result.upstream]);
    expect(attrs.SbOutcome).toEqual(['success']);
  });

  it('spreads calls across the organisations of a pool by weight', async () => {
    const m = marker('spread');
    const calls = 60;
    for (let batch = 0; batch < calls; batch += 30) {
      await Promise.all(Array.from({ length: 30 }, (_, i) => t.sb.complete({ route: 'chat-default', messages: ask(`${m} question ${batch + i}`) })));
    }
    const seen = t.vendor.requests({ contains: [m] });
    expect(seen).toHaveLength(calls);
    const share = (org: string) => seen.filter((r) => r.organisation === org).length / calls;
    // Weights 2:1:1; healthy upstreams are drawn by score (weight × headroom × latency), so the split is near, not exactly, 2:1:1.
    expect(share('openai/org-a')).toBeGreaterThan(0.35);
    expect(share('openai/org-a')).toBeLessThan(0.65);
    for (const org of ['openai/org-b', 'openai/org-c']) {
      expect(share(org)).toBeGreaterThan(0.12);
      expect(share(org)).toBeLessThan(0.38);
    }
  });

  it('retries a single 500 on the same vendor', async () => {
    const m = marker('500-once');
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m, times: 1, fault: { kind: 'status', status: 500 } });
    const result = await t.sb.complete({ route: 'solo-fallback', messages: ask(`Hello ${m}`) });
    expect(result.provider).toBe('solo');
    expect(result.attempts.map((a) => [a.upstream, a.outcome, a.status])).toEqual([
      ['solo/org-s', 'retryable', 500],
      ['solo/org-s', 'success', undefined],
    ]);
    expect(t.vendor.requests({ contains: [m] }).map((r) => [r.organisation, r.status])).toEqual([
      ['openai/org-s', 500],
      ['openai/org-s', 200],
    ]);
  });

  it('moves across the OpenAI organisations on a persistent 503, then to Anthropic with its prompt variant', async () => {
    const m = marker('503');
    for (const org of ['openai/org-a', 'openai/org-b', 'openai/org-c']) {
      t.vendor.setFault({ organisation: org, promptContains: m, fault: { kind: 'status', status: 503 } });
    }
    const result = await t.sb.complete({ route: 'chat-default', messages: ask(`Summarise ${m}`) });
    expect(result.provider).toBe('anthropic');
    expect(result.promptVariant).toBe('assistant:anthropic');

    const seen = t.vendor.requests({ contains: [m], includePrompt: true });
    const openai = seen.filter((r) => r.protocol === 'openai');
    expect(openai.map((r) => r.status)).toEqual([503, 503, 503]);
    expect(new Set(openai.map((r) => r.organisation))).toEqual(new Set(['openai/org-a', 'openai/org-b', 'openai/org-c']));
    const anthropic = seen.filter((r) => r.protocol === 'anthropic');
    expect(anthropic).toHaveLength(1);
    expect(anthropic[0]!.promptText).toContain('You are Claude, a concise assistant.');
    expect(anthropic[0]!.promptText).toContain('Keep it short.');
    expect(anthropic[0]!.promptText).not.toContain('You are a concise assistant.');

    // One CallEvent per request the vendor saw, failures included.
    const events = await eventually(
      '4 CallEvents',
      async () => {
        const found = await readCallEvents(t.nats, (e) => e.callId === result.callId);
        return found.length >= 4 ? found : undefined;
      },
      30_000,
    );
    expect(events).toHaveLength(seen.length);
    expect(events.map((e) => e.outcome)).toEqual(['retryable', 'retryable', 'retryable', 'success']);
    expect(events.slice(0, 3).map((e) => e.status)).toEqual([503, 503, 503]);
    expect(events[3]).toEqual(expect.objectContaining({ provider: 'anthropic', upstream: 'anthropic/org-a', model: 'claude-haiku-4-5' }));
  });

  it('waits out retry-after on a 429 before the next attempt', async () => {
    const m = marker('429-retry-after');
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m, times: 1, fault: { kind: 'rate_limit', retryAfterSeconds: 2 } });
    const result = await t.sb.complete({ route: 'solo-only', messages: ask(`Hi ${m}`) });
    const seen = t.vendor.requests({ contains: [m] });
    expect(seen.map((r) => r.status)).toEqual([429, 200]);
    expect(seen[1]!.time - seen[0]!.time).toBeGreaterThanOrEqual(2_000);
    expect(result.attempts[0]).toEqual(expect.objectContaining({ outcome: 'rate_limited', status: 429 }));
  });

  it('backs off with jitter on a 429 without retry-after, never more than a few attempts a second', async () => {
    const m = marker('429-storm');
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m, times: 4, fault: { kind: 'rate_limit' } });
    const result = await t.sb.complete({ route: 'solo-only', messages: ask(`Hi ${m}`) });
    const times = t.vendor.requests({ contains: [m] }).map((r) => r.time);
    expect(times).toHaveLength(5);
    const gaps = times.slice(1).map((time, i) => time - times[i]!);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(240);
    expect(result.attempts.map((a) => a.outcome)).toEqual(['rate_limited', 'rate_limited', 'rate_limited', 'rate_limited', 'success']);
  });

  it('does not resend a context-length failure to the same model, and moves to a larger-context entry', async () => {
    const m = marker('ctx');
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m, fault: { kind: 'context_length_exceeded' } });
    const result = await t.sb.complete({ route: 'solo-fallback', messages: ask(`A long document ${m}`) });
    expect(result.provider).toBe('anthropic');
    expect(t.vendor.requests({ contains: [m], organisation: 'openai/org-s' })).toHaveLength(1);

    const m2 = marker('ctx-nowhere');
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m2, fault: { kind: 'context_length_exceeded' } });
    const error = await callError(t.sb.complete({ route: 'solo-only', messages: ask(`A long document ${m2}`) }));
    expect(error.type).toBe(failureTypes.contextLength);
    expect(t.vendor.requests({ contains: [m2] })).toHaveLength(1);
  });

  it("surfaces a content-policy rejection with the vendor's reason, without retrying", async () => {
    const m = marker('policy');
    t.vendor.setFault({
      organisation: 'openai/org-s',
      promptContains: m,
      fault: { kind: 'content_policy_violation', message: 'The prompt mentions a forbidden topic (weapons).' },
    });
    const error = await callError(t.sb.complete({ route: 'solo-fallback', messages: ask(`Tell me ${m}`) }));
    expect(error.type).toBe(failureTypes.contentPolicy);
    expect(error.message).toContain('forbidden topic (weapons)');
    expect(error.attempts).toHaveLength(1);
    expect(t.vendor.requests({ contains: [m] })).toHaveLength(1);
  });

  it('bounds a vendor that never answers by the configured timeout, then falls back at once', async () => {
    const m = marker('hang');
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m, fault: { kind: 'hang' } });
    const started = Date.now();
    const result = await t.sb.complete({ route: 'solo-hang', messages: ask(`Anyone there ${m}`) });
    const elapsedMs = Date.now() - started;
    expect(result.provider).toBe('anthropic');
    // One 800 ms timeout: a silent upstream is not asked again in the same call (retry.sameUpstreamRetries.silent = 0).
    expect(elapsedMs).toBeLessThan(10_000);
    expect(result.attempts.map((a) => [a.provider, a.outcome, a.errorType])).toEqual([
      ['solo', 'retryable', 'timeout'],
      ['anthropic', 'success', undefined],
    ]);
    expect(result.attempts[0]!.latencyMs).toBeGreaterThanOrEqual(750);
  });

  it('reaches the vendor once for two calls with the same idempotency key', async () => {
    const m = marker('idem');
    const key = `order-${m}`;
    const [first, second] = await Promise.all([
      t.sb.complete({ route: 'chat-default', messages: ask(`Once ${m}`), idempotencyKey: key }),
      t.sb.complete({ route: 'chat-default', messages: ask(`Once ${m}`), idempotencyKey: key }),
    ]);
    const third = await t.sb.complete({ route: 'chat-default', messages: ask(`Once ${m}`), idempotencyKey: key });
    expect(second).toEqual(first);
    expect(third).toEqual(first);
    expect(first.workflowId).toBe(callWorkflowId('default', key, () => 'unused'));
    expect(t.vendor.requests({ contains: [m] })).toHaveLength(1);
  });

  it('fails with every attempt in the log when the whole route is down', async () => {
    const m = marker('down');
    for (const org of ['openai/org-s', 'anthropic/org-a']) t.vendor.setFault({ organisation: org, promptContains: m, fault: { kind: 'status', status: 502 } });
    const tenant = `t-${randomUUID().slice(0, 8)}`;
    const error = await callError(t.sb.complete({ route: 'solo-fallback', tenant, feature: 'headline', messages: ask(`Anything ${m}`) }));
    expect(error.type).toBe(failureTypes.exhausted);
    expect(error.attempts.map((a) => `${a.upstream}:${a.status}`)).toEqual([
      'solo/org-s:502',
      'solo/org-s:502',
      'solo/org-s:502',
      'anthropic/org-a:502',
      'anthropic/org-a:502',
      'anthropic/org-a:502',
    ]);
    expect(t.vendor.requests({ contains: [m] })).toHaveLength(6);

    // Every call is an interaction: the failed one too, with its reason and the last upstream tried.
    const jsm = await t.nats.jetstreamManager();
    const stored = await eventually("the failed call's interaction record", async () => {
      try {
        return await jsm.streams.getMessage(streams.interactions.name, { last_by_subj: interactionSubject(tenant) });
      } catch {
        return undefined;
      }
    });
    const record = Interaction.parse(JSONCodec().decode(stored.data));
    expect(record).toMatchObject({
      tenant,
      feature: 'headline',
      route: 'solo-fallback',
      outcome: 'failed',
      provider: 'anthropic',
      upstream: 'anthropic/org-a',
      attempts: 6,
      output: '',
      costUsd: 0,
    });
    expect(record.error).toMatch(/\S/);
    expect(record.input).toContain(m);
  });
});
