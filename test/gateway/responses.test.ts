/**
 * `POST /v1/responses` through the official `openai` client's `responses`
 * API on the real stack: text, instructions, streaming events, function
 * tools, `text.format` json_schema, and `previous_response_id` served from
 * Switchboard's own record — across a gateway restart, never across tenants.
 * Assertions read the fake vendor's request log.
 */
import { randomUUID } from 'node:crypto';
import { connect } from 'nats';
import OpenAI from 'openai';
import { createLogger } from '../../lib/log';
import { createGateway } from '../../services/gateway/server';
import { testStack } from '../harness/env';
import { apiError, startGateway, tenantKeys, type GatewayUnderTest } from '../harness/gateway';

const marker = (name: string) => `${name}-m${randomUUID().slice(0, 8)}`;

describe('gateway: the Responses API', () => {
  let t: GatewayUnderTest;

  beforeAll(async () => {
    t = await startGateway({
      gateway: { streamDefaults: { mode: 'relay', firstTokenTimeoutMs: 5_000, stallTimeoutMs: 500 } },
      configOverrides: {
        health: { consecutiveFailures: 1_000, minCallsForRate: 1_000 },
        retry: { initialIntervalMs: 50, maxIntervalMs: 500, maxAttemptsPerEntry: 1, maxAttempts: 4 },
      },
    });
  });
  afterAll(async () => {
    // A gateway restartIfClosed started is not the harness's own.
    await t?.gateway.close(1_000).catch(() => undefined);
    await t?.close();
  });
  afterEach(() => t.vendor.clearFaults());

  it("answers text with instructions as this turn's system message", async () => {
    const m = marker('plain');
    const response = await t
      .openai()
      .responses.create({ model: 'chat-default', instructions: `Be brief ${m}-instr`, input: `Say hello ${m} [[say:hello from responses]]` });
    expect(response.object).toBe('response');
    expect(response.id).toMatch(/^resp_[0-9a-f]{48}$/);
    expect(response.status).toBe('completed');
    expect(response.output_text).toBe('hello from responses');
    expect(response.model).toBe('gpt-4o-mini');
    expect(response.usage!.total_tokens).toBe(response.usage!.input_tokens + response.usage!.output_tokens);
    const seen = t.vendor.requests({ contains: [m], includePrompt: true });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.promptText).toContain(`Be brief ${m}-instr`);
  });

  it('continues a conversation from previous_response_id, on a restarted gateway, and only for its tenant', async () => {
    const m = marker('conversation');
    const first = await t
      .openai()
      .responses.create({ model: 'chat-default', instructions: `${m}-first-instructions`, input: `My name is Ada ${m} [[say:nice to meet you Ada]]` });
    // A new gateway in this process (same Temporal, same NATS): the first one is gone. A real process restart: responses-restart.test.ts.
    await t.gateway.close(1_000);
    const nats = await connect({ servers: testStack().natsUrl, name: 'switchboard-gateway-test-2' });
    const second = await createGateway({ config: t.config, client: t.client, nats, taskQueue: t.taskQueue, log: createLogger({ level: 'silent' }) });
    try {
      const url = await second.listen(0);
      const client = (apiKey: string) => new OpenAI({ apiKey, baseURL: `${url}/v1`, maxRetries: 0, timeout: 30_000 });
      const next = await client(tenantKeys.acme).responses.create({
        model: 'chat-default',
        previous_response_id: first.id,
        input: `What is my name? ${m}-second [[say:your name is Ada]]`,
      });
      expect(next.output_text).toBe('your name is Ada');
      expect(next.previous_response_id).toBe(first.id);
      const sent = t.vendor.requests({ contains: [`${m}-second`], includePrompt: true });
      expect(sent).toHaveLength(1);
      // The earlier turn and its answer went to the vendor; the earlier instructions did not (they hold for one turn).
      expect(sent[0]!.promptText).toContain(`My name is Ada ${m}`);
      expect(sent[0]!.promptText).toContain('nice to meet you Ada');
      expect(sent[0]!.promptText).not.toContain(`${m}-first-instructions`);

      const foreign = await apiError(
        client(tenantKeys.globex).responses.create({ model: 'chat-default', previous_response_id: first.id, input: `steal ${m}-foreign` }),
      );
      expect(foreign).toBeInstanceOf(OpenAI.NotFoundError);
      expect(foreign.param).toBe('previous_response_id');
      const unknown = await apiError(
        client(tenantKeys.acme).responses.create({ model: 'chat-default', previous_response_id: `resp_${'0'.repeat(48)}`, input: `hi ${m}-unknown` }),
      );
      expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
      expect(t.vendor.requests({ contains: [`${m}-foreign`] })).toHaveLength(0);
      expect(t.vendor.requests({ contains: [`${m}-unknown`] })).toHaveLength(0);
    } finally {
      await second.close(1_000);
      await nats.drain();
    }
  });

  it('streams the Responses API events, created first and completed last', async () => {
    t.gateway = await restartIfClosed(t);
    const m = marker('stream');
    const stream = await t.openai().responses.create({ model: 'solo-only', input: `${m} [[say:one two three four five six]]`, stream: true });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    expect(events[0]!.type).toBe('response.created');
    expect(events.at(-1)!.type).toBe('response.completed');
    const deltas = events.filter((e): e is OpenAI.Responses.ResponseTextDeltaEvent => e.type === 'response.output_text.delta');
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.map((d) => d.delta).join('')).toBe('one two three four five six');
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const completed = events.at(-1) as OpenAI.Responses.ResponseCompletedEvent;
    expect(completed.response.output_text ?? completed.response.output).toBeTruthy();
    // The streamed response is stored too: the next turn continues from it.
    const next = await t.openai().responses.create({ model: 'solo-only', previous_response_id: completed.response.id, input: `${m}-next [[say:ok]]` });
    expect(t.vendor.requests({ contains: [`${m}-next`], includePrompt: true })[0]!.promptText).toContain('one two three four five six');
    expect(next.output_text).toBe('ok');
  });

  it('ends a stream cut after its first token with an error event the client raises, never completed', async () => {
    t.gateway = await restartIfClosed(t);
    const m = marker('cut');
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m, fault: { kind: 'stream_cut', afterChunks: 3 } });
    const stream = await t.openai().responses.create({ model: 'solo-only', input: `${m} [[say:alpha beta gamma delta epsilon zeta eta]]`, stream: true });
    const types: string[] = [];
    await expect(
      (async () => {
        for await (const event of stream) types.push(event.type);
      })(),
    ).rejects.toThrow(/broke off/);
    expect(types).toContain('response.output_text.delta');
    expect(types).not.toContain('response.completed');
  });

  it('resumes a stream cut after its first token: one coherent stream, completed with the whole text', async () => {
    t.gateway = await restartIfClosed(t);
    const m = marker('resume');
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m, fault: { kind: 'stream_cut', afterChunks: 3 } });
    // The fallback writes the same words ([[say]]), so it continues the stream the primary began.
    const stream = await t.openai().responses.create({ model: 'solo-fallback', input: `${m} [[say:alpha beta gamma delta epsilon zeta eta]]`, stream: true });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const deltas = events.filter((e): e is OpenAI.Responses.ResponseTextDeltaEvent => e.type === 'response.output_text.delta');
    expect(deltas.map((d) => d.delta).join('')).toBe('alpha beta gamma delta epsilon zeta eta');
    expect(events.filter((e) => e.type === 'response.completed')).toHaveLength(1);
    expect(t.vendor.requests({ contains: [m] }).map((r) => r.organisation)).toEqual(['openai/org-s', 'anthropic/org-a']);
  });

  it('keeps the stored conversation encrypted in NATS (no prompt text in the KV entry)', async () => {
    t.gateway = await restartIfClosed(t);
    const m = marker('sealed');
    const response = await t.openai().responses.create({ model: 'chat-default', input: `secret plan ${m} [[say:noted]]` });
    const nats = await connect({ servers: testStack().natsUrl });
    try {
      const kv = await nats.jetstream().views.kv('sb_responses');
      const keys: string[] = [];
      for await (const key of await kv.keys()) keys.push(key);
      const key = keys.find((k) => k.endsWith(`.${response.id}`))!;
      const entry = await kv.get(key);
      expect(entry?.value.length).toBeGreaterThan(0);
      expect(Buffer.from(entry!.value).toString('latin1')).not.toContain(m);
    } finally {
      await nats.drain();
    }
  });

  it('returns function calls as items and takes their outputs back', async () => {
    t.gateway = await restartIfClosed(t);
    const m = marker('tools');
    const tools: OpenAI.Responses.FunctionTool[] = [
      {
        type: 'function',
        name: 'get_weather',
        strict: true,
        parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
      },
    ];
    const first = await t.openai().responses.create({ model: 'chat-default', input: `Weather in Paris? ${m}`, tools, tool_choice: 'required' });
    const call = first.output.find((item): item is OpenAI.Responses.ResponseFunctionToolCall => item.type === 'function_call');
    expect(call?.name).toBe('get_weather');
    expect(typeof (JSON.parse(call!.arguments) as { city: unknown }).city).toBe('string');
    const second = await t.openai().responses.create({
      model: 'chat-default',
      previous_response_id: first.id,
      tools,
      input: [{ type: 'function_call_output', call_id: call!.call_id, output: `sunny ${m}-output` }],
    });
    expect(second.status).toBe('completed');
    const sent = t.vendor.requests({ contains: [`${m}-output`], includePrompt: true });
    expect(sent).toHaveLength(1);
    expect(sent[0]!.promptText).toContain(`Weather in Paris? ${m}`);
  });

  it('realises text.format json_schema as structured output', async () => {
    t.gateway = await restartIfClosed(t);
    const m = marker('structured');
    const schema = {
      type: 'object',
      properties: { title: { type: 'string' }, pages: { type: 'integer', minimum: 1, maximum: 9 } },
      required: ['title', 'pages'],
      additionalProperties: false,
    };
    const response = await t
      .openai()
      .responses.create({ model: 'chat-default', input: `Plan a site ${m}`, text: { format: { type: 'json_schema', name: 'site', schema, strict: true } } });
    const parsed = JSON.parse(response.output_text) as { title: unknown; pages: number };
    expect(typeof parsed.title).toBe('string');
    expect(parsed.pages).toBeGreaterThanOrEqual(1);
  });

  it('store: false keeps no record; bad parameters are 400s naming them', async () => {
    t.gateway = await restartIfClosed(t);
    const m = marker('nostore');
    const unstored = await t.openai().responses.create({ model: 'chat-default', input: `hi ${m} [[say:hi]]`, store: false });
    expect((unstored as unknown as { store?: boolean }).store).toBe(false);
    expect(await apiError(t.openai().responses.create({ model: 'chat-default', previous_response_id: unstored.id, input: 'again' }))).toBeInstanceOf(
      OpenAI.NotFoundError,
    );
    const bad = await apiError(t.openai().responses.create({ model: 'chat-default', input: 'x', background: true }));
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    expect(bad.param).toBe('background');
    const unknownRoute = await apiError(t.openai().responses.create({ model: 'no-such-route', input: 'x' }));
    expect(unknownRoute.param).toBe('model');
  });
});

/** The conversation test closed the harness's gateway: later tests get a fresh one on the same stack. */
async function restartIfClosed(t: GatewayUnderTest) {
  if (t.gateway.server.listening) return t.gateway;
  const gateway = await createGateway({
    config: t.config,
    client: t.client,
    nats: t.gatewayNats,
    taskQueue: t.taskQueue,
    log: createLogger({ level: 'silent' }),
  });
  const url = await gateway.listen(0);
  t.openai = (apiKey = tenantKeys.acme) => new OpenAI({ apiKey, baseURL: `${url}/v1`, maxRetries: 0, timeout: 30_000 });
  return gateway;
}
