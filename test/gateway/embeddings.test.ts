/**
 * `POST /v1/embeddings` through the official `openai` client on the real
 * stack: durable calls on the same pools and breakers as chat, vectors in
 * input order, an organisation down invisible to the caller, a fallback
 * across providers only where the route names one vector size.
 */
import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import { apiError, startGateway, type GatewayUnderTest } from '../harness/gateway';
import { eventually, interactionRecord, readCallEvents } from '../harness/switchboard';

const marker = (name: string) => `${name}-m${randomUUID().slice(0, 8)}`;

describe('gateway: embeddings', () => {
  let t: GatewayUnderTest;
  let direct: OpenAI;

  beforeAll(async () => {
    t = await startGateway({
      // Chunks of 64 vectors of 3072 floats are ≈ 1 MB answers: on a machine busy with other suites, an attempt takes
      // longer than the harness's 10 s attempt timeout and a call longer than its 30 s deadline.
      gateway: { deadlineMs: 120_000 },
      configOverrides: {
        timeouts: { attemptMs: 60_000, callMs: 120_000, heartbeatMs: 2_000 },
        health: { consecutiveFailures: 1_000, minCallsForRate: 1_000 },
        prices: { 'gpt-4o-mini': { inputPerMTok: 0.15, outputPerMTok: 0.6 }, 'text-embedding-3-small': { inputPerMTok: 0.02, outputPerMTok: 0 } },
        routes: {
          'chat-default': { entries: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
          embed: { entries: [{ provider: 'openai', model: 'text-embedding-3-small' }] },
          'embed-large': { entries: [{ provider: 'openai', model: 'text-embedding-3-large' }] },
          'embed-fallback': {
            embeddingDimensions: 256,
            entries: [
              { provider: 'solo', model: 'text-embedding-3-small' },
              { provider: 'openai', model: 'text-embedding-3-large' },
            ],
          },
          'embed-unsized': {
            entries: [
              { provider: 'solo', model: 'text-embedding-3-small' },
              { provider: 'openai', model: 'text-embedding-3-large' },
            ],
          },
          'embed-anthropic': { entries: [{ provider: 'anthropic', model: 'claude-haiku-4-5' }] },
          // Promises 3072 but its model answers 1536: the answer is checked against the promise.
          'embed-wrong-size': { entries: [{ provider: 'openai', model: 'text-embedding-3-small', dimensions: 3072 }] },
        },
      },
    });
    direct = new OpenAI({ apiKey: 'sk-fake-test-org-b', baseURL: `${t.vendor.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await t?.close();
  });
  afterEach(() => t.vendor.clearFaults());

  it("embeds one input as a durable call: the vendor's vector, usage, a CallEvent", async () => {
    const m = marker('one');
    const response = await t.openai().embeddings.create({ model: 'embed', input: `hello ${m}`, encoding_format: 'float' });
    expect(response.data).toHaveLength(1);
    expect(response.data[0]!.embedding).toHaveLength(1536);
    expect(response.model).toBe('text-embedding-3-small');
    expect(response.usage.prompt_tokens).toBeGreaterThan(0);
    const expected = (await direct.embeddings.create({ model: 'text-embedding-3-small', input: `hello ${m}`, encoding_format: 'float' })).data[0]!.embedding;
    response.data[0]!.embedding.forEach((value, i) => expect(value).toBeCloseTo(expected[i]!, 5));
    const events = await readCallEvents(t.nats, (e) => e.route === 'embed' && e.model === 'text-embedding-3-small' && e.outcome === 'success');
    expect(events.length).toBeGreaterThan(0);
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/sb_gateway_requests_total\{endpoint="embeddings",route="embed",status="200"\} [1-9]/);
  });

  it("embeds 100 texts in order while one organisation is down, with no error (the SDK's default base64 decodes to the same floats)", async () => {
    const m = marker('rag');
    const since = Date.now();
    t.vendor.setFault({ organisation: 'openai/org-a', fault: { kind: 'status', status: 503 } });
    const texts = Array.from({ length: 100 }, (_, i) => `chunk ${i} of the handbook ${m}`);
    const response = await t.openai().embeddings.create({ model: 'embed', input: texts });
    expect(response.data.map((d) => d.index)).toEqual(texts.map((_, i) => i));
    for (const i of [0, 37, 99]) {
      const expected = (await direct.embeddings.create({ model: 'text-embedding-3-small', input: texts[i]!, encoding_format: 'float' })).data[0]!.embedding;
      response.data[i]!.embedding.forEach((value, j) => expect(value).toBeCloseTo(expected[j]!, 5));
    }
    // Every vector came from a healthy organisation; whatever reached org-a failed there.
    const seen = t.vendor.requests({ since }).filter((r) => r.path === '/v1/embeddings');
    expect(seen.some((r) => r.status === 200)).toBe(true);
    expect(seen.filter((r) => r.status === 200).every((r) => r.organisation !== 'openai/org-a')).toBe(true);
    expect(seen.filter((r) => r.organisation === 'openai/org-a').every((r) => r.status === 503)).toBe(true);
  });

  it('embeds 300 texts of 3072 dimensions, more than one workflow carries, in order', async () => {
    const m = marker('large');
    const since = Date.now();
    const texts = Array.from({ length: 300 }, (_, i) => `passage ${i} ${m}`);
    const response = await t.openai().embeddings.create({ model: 'embed-large', input: texts });
    expect(response.data.map((d) => d.index)).toEqual(texts.map((_, i) => i));
    expect(response.data.every((d) => d.embedding.length === 3072)).toBe(true);
    // 64 vectors of 3072 floats per llmCall (a Temporal payload): five calls, five chunks at the vendor, each call
    // answered once. A chunk may be paid again on a loaded machine: a first attempt runs inside its workflow task, and
    // when that task's completion comes after its timeout the attempt is made again (embedding vectors are not kept in
    // the attempt journal); the lost attempt has no CallEvent of its own (docs/benchmarks.md, "One workflow task").
    const paid = t.vendor.requests({ contains: [m] }).filter((r) => r.path === '/v1/embeddings' && r.status === 200);
    expect(new Set(paid.map((r) => r.promptHash)).size).toBe(5);
    const answered = await eventually('a success CallEvent for each of the five calls', async () => {
      const events = await readCallEvents(t.nats, (e) => e.route === 'embed-large' && e.at >= since && e.outcome === 'success');
      return new Set(events.map((e) => e.callId)).size >= 5 ? events : undefined;
    });
    expect(new Set(answered.map((e) => e.callId)).size).toBe(5);
    expect(answered.length).toBeLessThanOrEqual(paid.length);
    for (const i of [0, 150, 299]) {
      const expected = (await direct.embeddings.create({ model: 'text-embedding-3-large', input: texts[i]!, encoding_format: 'float' })).data[0]!.embedding;
      response.data[i]!.embedding.forEach((value, j) => expect(value).toBeCloseTo(expected[j]!, 5));
    }
  });

  it('masks the inputs like prompts: the vendor and the interaction record see placeholders; one CallEvent and one record per request', async () => {
    const m = marker('pii');
    const email = `jane.doe.${m}@example.com`;
    // An organisation whose account is locked is passed over like a 503 one.
    t.vendor.setFault({ organisation: 'openai/org-a', fault: { kind: 'account_locked' } });
    const { data, response } = await t
      .openai()
      .embeddings.create({ model: 'embed', input: [`write to ${email} ${m}`, `second ${m}`], encoding_format: 'float' })
      .withResponse();
    expect(data.data.map((d) => d.index)).toEqual([0, 1]);
    const callId = response.headers.get('x-switchboard-call-id')!;
    const sent = t.vendor.requests({ contains: [m], includePrompt: true }).filter((r) => r.path === '/v1/embeddings');
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.every((r) => !r.promptText!.includes(email) && /\[\[EMAIL_1_[a-z0-9]+\]\]/.test(r.promptText!))).toBe(true);
    const interaction = await interactionRecord(t.nats, 'acme', callId);
    expect(interaction.route).toBe('embed');
    expect(interaction.model).toBe('text-embedding-3-small');
    expect(interaction.promptAsSent).toContain(m);
    expect(interaction.promptAsSent).not.toContain(email);
    expect(interaction.output).toBe('');
    // Cost and usage as for chat: the tokens the client was told, at the embedding model's price.
    expect(interaction.inputTokens).toBe(data.usage.prompt_tokens);
    expect(interaction.costUsd).toBeCloseTo((data.usage.prompt_tokens * 0.02) / 1e6, 12);
    const events = await eventually("the call's CallEvents", async () => {
      const found = await readCallEvents(t.nats, (e) => e.callId === callId);
      return found.some((e) => e.outcome === 'success') ? found : undefined;
    });
    expect(events.filter((e) => e.outcome === 'success')).toHaveLength(1);
    expect(events.filter((e) => e.outcome !== 'success').every((e) => e.upstream === 'openai/org-a')).toBe(true);
  });

  it("answers a 502 in OpenAI's error shape when the vectors are not the size the route promises", async () => {
    const m = marker('size');
    const error = await apiError(t.openai().embeddings.create({ model: 'embed-wrong-size', input: m, encoding_format: 'float' }));
    expect(error.status).toBe(502);
    expect(error.type).toBe('api_error');
    expect(error.code).toBe('bad_upstream_answer');
    expect(error.message).toMatch(/1536 dimensions, not the 3072 the route promises/);
  });

  it("falls back to another provider's model at the size the route names", async () => {
    t.vendor.setFault({ organisation: 'openai/org-s', fault: { kind: 'status', status: 503 } });
    const m = marker('fallback');
    const response = await t.openai().embeddings.create({ model: 'embed-fallback', input: [`a ${m}`, `b ${m}`], encoding_format: 'float' });
    expect(response.data.map((d) => d.embedding.length)).toEqual([256, 256]);
    expect(response.model).toBe('text-embedding-3-large');
  });

  it('answers 400s that name the problem, before any vendor is asked', async () => {
    const m = marker('bad');
    const started = Date.now();
    expect((await apiError(t.openai().embeddings.create({ model: 'embed-unsized', input: m }))).message).toMatch(/embeddingDimensions/);
    expect((await apiError(t.openai().embeddings.create({ model: 'embed-anthropic', input: m }))).message).toMatch(/no embeddings API/);
    const tokens = await apiError(t.openai().embeddings.create({ model: 'embed', input: [[1, 2, 3]] }));
    expect(tokens).toBeInstanceOf(OpenAI.BadRequestError);
    expect(tokens.param).toBe('input');
    expect((await apiError(t.openai().embeddings.create({ model: 'embed-fallback', input: m, dimensions: 512 }))).param).toBe('dimensions');
    const unknown = await apiError(t.openai().embeddings.create({ model: 'no-such-route', input: m }));
    expect(unknown.code).toBe('model_not_found');
    expect(unknown.error).toMatchObject({ message: expect.any(String), type: expect.any(String), code: 'model_not_found' });
    const extra = await apiError(t.openai().embeddings.create({ model: 'embed', input: m, user: 'u', ...{ truncate: 'end' } } as OpenAI.EmbeddingCreateParams));
    expect(extra).toBeInstanceOf(OpenAI.BadRequestError);
    expect(extra.param).toBe('truncate');
    expect(extra.error).toMatchObject({ type: 'invalid_request_error', param: 'truncate', code: 'unsupported_parameter' });
    expect(t.vendor.requests({ since: started }).filter((r) => r.path === '/v1/embeddings')).toHaveLength(0);
  });
});
