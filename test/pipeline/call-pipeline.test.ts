/**
 * Validation with repair, the exact cache and PII masking inside llmCall, on
 * the real stack: what the vendor saw (its request log) and what the caller got.
 */
import { randomUUID } from 'node:crypto';
import { decodeStreamChunk, streamSubject } from '../../lib/nats/stream-chunks';
import { eventually, interactionRecord, startSwitchboard, type SwitchboardUnderTest } from '../harness/switchboard';
import { callWorkflowId } from '../../contracts/names';

const marker = (name: string) => `${name}-m${randomUUID().slice(0, 8)}`;

describe('call pipeline: validation, cache, PII', () => {
  let t: SwitchboardUnderTest;
  beforeAll(async () => {
    t = await startSwitchboard({
      configOverrides: {
        health: { consecutiveFailures: 10_000, minCallsForRate: 10_000, rateLimitPersistCount: 10_000 },
        features: { cta: { validation: { contentKind: 'button' } } },
      },
    });
  });
  afterAll(async () => {
    await t?.close();
  });
  afterEach(() => t.vendor.clearFaults());

  it('repairs a button text that came back as a paragraph', async () => {
    // [[tokens:40]] makes the first answer a paragraph; the repair turn carries no directive, so the vendor follows the instruction.
    const m = marker('button');
    const result = await t.sb.complete({
      route: 'solo-only',
      feature: 'cta',
      messages: [{ role: 'user', content: `Write the signup button text for a bakery ${m} [[tokens:40]]` }],
    });
    expect(result.validation).toBe('repaired');
    expect(result.attempts.map((a) => a.outcome)).toEqual(['invalid_output', 'success']);
    expect(result.attempts[0]!.errorType).toMatch(/^validation_max_(words|chars)$/);
    expect(result.text.split(/\s+/).length).toBeLessThanOrEqual(4);
    const seen = t.vendor.requests({ contains: [m], includePrompt: true });
    expect(seen).toHaveLength(2);
    expect(seen[1]!.promptText).toMatch(/a button text must have at most (4 words|30 characters)/);
  });

  it('answers a repeated request from the cache, never across tenants, and honours the opt-out', async () => {
    const m = marker('cache');
    const ask = { route: 'cached', messages: [{ role: 'user' as const, content: `What are your opening hours? ${m}` }] };
    const first = await t.sb.complete({ ...ask, tenant: 'acme' });
    const second = await t.sb.complete({ ...ask, tenant: 'acme' });
    expect(first.cached).toBe(false);
    expect(second.cached).toBe(true);
    expect(second.text).toBe(first.text);
    expect(second.attempts).toEqual([]);
    expect(t.vendor.requests({ contains: [m] })).toHaveLength(1);

    const otherTenant = await t.sb.complete({ ...ask, tenant: 'globex' });
    expect(otherTenant.cached).toBe(false);
    expect(t.vendor.requests({ contains: [m] })).toHaveLength(2);

    const optedOut = await t.sb.complete({ ...ask, tenant: 'acme', cache: false });
    expect(optedOut.cached).toBe(false);
    expect(t.vendor.requests({ contains: [m] })).toHaveLength(3);
  });

  it('answers a near-identical question from the semantic cache only where it is enabled, above the threshold', async () => {
    const m = marker('semantic');
    const question = `What time does the bakery open on Saturday mornings, ${m}?`;
    const nearly = `what time does the bakery open on saturday mornings ${m}`;
    const unrelated = `Which flours do you use for the sourdough loaves, ${m}?`;
    const first = await t.sb.complete({ route: 'cached-semantic', messages: [{ role: 'user', content: question }] });
    const close = await t.sb.complete({ route: 'cached-semantic', messages: [{ role: 'user', content: nearly }] });
    expect(first.cached).toBe(false);
    expect(close.cached).toBe(true);
    expect(close.text).toBe(first.text);
    const far = await t.sb.complete({ route: 'cached-semantic', messages: [{ role: 'user', content: unrelated }] });
    expect(far.cached).toBe(false);
    const otherTenant = await t.sb.complete({ route: 'cached-semantic', tenant: 'globex', messages: [{ role: 'user', content: nearly }] });
    expect(otherTenant.cached).toBe(false);
    expect(t.vendor.requests({ contains: [m] })).toHaveLength(3);

    // The exact-only route does not answer the paraphrase.
    await t.sb.complete({ route: 'cached', messages: [{ role: 'user', content: question }] });
    const exactOnly = await t.sb.complete({ route: 'cached', messages: [{ role: 'user', content: nearly }] });
    expect(exactOnly.cached).toBe(false);
  });

  it("embeds with the vendor's embeddings API when the route asks for it", async () => {
    const m = marker('vendor-embed');
    const first = await t.sb.complete({ route: 'cached-semantic-vendor', messages: [{ role: 'user', content: `Do you bake rye bread, ${m}?` }] });
    const again = await t.sb.complete({ route: 'cached-semantic-vendor', messages: [{ role: 'user', content: `Do you bake rye bread, ${m}?` }] });
    expect(first.cached).toBe(false);
    expect(again.cached).toBe(true);
    const embeddings = t.vendor.requests({ contains: [m] }).filter((r) => r.path === '/v1/embeddings');
    // One look-up (miss) and one store embedded the question; the repeat is an exact hit.
    expect(embeddings.map((r) => [r.organisation, r.model, r.status])).toEqual([
      ['openai/org-s', 'text-embedding-3-small', 200],
      ['openai/org-s', 'text-embedding-3-small', 200],
    ]);
  });

  it('never lets a vendor see PII, and restores it in the answer', async () => {
    const m = marker('pii');
    const email = `jane.doe.${m}@example.com`;
    const card = '4111 1111 1111 1111';
    const phone = '+44 20 7946 0958';
    const result = await t.sb.complete({
      route: 'solo-only',
      messages: [{ role: 'user', content: `[[echo]] Contact ${email} or ${phone}, card ${card} (${m})` }],
    });
    for (const secret of [email, card, phone]) {
      expect(t.vendor.requests({ contains: [secret] })).toHaveLength(0);
      expect(result.text).toContain(secret);
    }
    const seen = t.vendor.requests({ contains: [m], includePrompt: true });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.promptText).toMatch(/\[\[EMAIL_\d+_[a-z0-9]+\]\]/);
  });

  it('restores PII in streamed deltas, and records the interaction masked', async () => {
    const m = marker('pii-stream');
    const email = `stream.${m}@example.org`;
    const key = `stream-${m}`;
    const callId = callWorkflowId('default', key, () => 'unused');
    // By attempt and index: on a loaded machine a first attempt can run again (its workflow task timed out) and stream
    // the same deltas again under the same attempt and indexes, as the gateway's relay expects.
    const byAttempt = new Map<number, Map<number, string>>();
    const subscription = t.nats.subscribe(streamSubject(callId), {
      callback: (_error, message) => {
        const chunk = decodeStreamChunk(message.data);
        if (chunk.type !== 'delta') return;
        const deltas = byAttempt.get(chunk.attempt) ?? new Map<number, string>();
        deltas.set(chunk.index, chunk.text);
        byAttempt.set(chunk.attempt, deltas);
      },
    });
    const lastAttempt = () => {
      const deltas = byAttempt.get(Math.max(...byAttempt.keys())) ?? new Map<number, string>();
      return [...deltas.entries()].sort(([a], [b]) => a - b).map(([, text]) => text);
    };
    try {
      const result = await t.sb.complete({
        route: 'solo-only',
        stream: true,
        idempotencyKey: key,
        // The product enhanced the user's words into the prompt: the record keeps both.
        userInput: `please send the invoice to ${email} before the end of the day ${m}`,
        messages: [{ role: 'user', content: `[[echo]] Please write to ${email} today ${m}` }],
      });
      expect(result.text).toContain(email);
      await eventually('every delta of the answering attempt', () => (lastAttempt().join('') === result.text ? true : undefined), 30_000);
      expect(lastAttempt().length).toBeGreaterThan(3);
      expect(t.vendor.requests({ contains: [email] })).toHaveLength(0);
    } finally {
      subscription.unsubscribe();
    }

    const interaction = await interactionRecord(t.nats, 'default', callId);
    expect(interaction.callId).toBe(callId);
    expect(interaction.input).not.toContain(email);
    const placeholder = interaction.input.match(/\[\[EMAIL_\d+_[a-z0-9]+\]\]/)?.[0];
    expect(interaction.input).toBe(`please send the invoice to ${placeholder} before the end of the day ${m}`);
    // One value, one placeholder: the enhanced prompt and the user's input agree.
    expect(interaction.enhancedPrompt).toBe(`[[echo]] Please write to ${placeholder} today ${m}`);
    expect(interaction.promptAsSent).toContain('user: [[echo]] Please write to');
    expect(interaction.language).toBe('en');
    // Streamed: the time to the first token of the kept answer, within the call's latency.
    expect(interaction.ttftMs).toBeGreaterThan(0);
    expect(interaction.ttftMs).toBeLessThanOrEqual(interaction.latencyMs);
  });
});

describe('call pipeline: the optional second look', () => {
  let t: SwitchboardUnderTest;
  beforeAll(async () => {
    t = await startSwitchboard({
      configOverrides: {
        health: { consecutiveFailures: 10_000, minCallsForRate: 10_000, rateLimitPersistCount: 10_000 },
        features: { reviewed: { validation: { secondLook: true, repairAttempts: 1 } } },
      },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('asks the vendor to review an answer and keeps it when approved', async () => {
    const m = marker('second-look');
    // The fake vendor answers the directive, in the answer and in the review (which quotes the request).
    const result = await t.sb.complete({ route: 'solo-only', feature: 'reviewed', messages: [{ role: 'user', content: `A slogan ${m} [[say:APPROVE]]` }] });
    expect(result.text).toBe('APPROVE');
    expect(result.validation).toBe('passed');
    const seen = t.vendor.requests({ contains: [m], includePrompt: true });
    expect(seen).toHaveLength(2);
    expect(seen[1]!.promptText).toContain('Answer to review:');
  });

  it('repairs an answer the review rejects, then moves on', async () => {
    const m = marker('second-look-reject');
    let failed: unknown;
    try {
      await t.sb.complete({
        route: 'solo-only',
        feature: 'reviewed',
        messages: [{ role: 'user', content: `A slogan ${m} [[say:REJECT: it is not a slogan]]` }],
      });
    } catch (error) {
      failed = error;
    }
    // Every review quotes the request, whose directive always rejects: one repair, then no fallback left.
    expect(failed).toMatchObject({ name: 'SwitchboardCallError', type: 'SbUpstreamsExhausted' });
    const prompts = t.vendor.requests({ contains: [m], includePrompt: true }).map((r) => r.promptText ?? '');
    expect(prompts.some((p) => p.includes('A reviewer rejected your previous answer: it is not a slogan'))).toBe(true);
    expect(prompts.filter((p) => p.includes('Answer to review:')).length).toBeGreaterThanOrEqual(2);
  });
});
