/**
 * The gateway through the official `openai` (and `@anthropic-ai/sdk`) client
 * on the real stack: answers, tools, structured output, errors, admission,
 * idempotency, feedback scoping. Assertions read the fake vendor's request
 * log and NATS, not only the response.
 */
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import { JSONCodec } from 'nats';
import type OpenAI from 'openai';
import { apiError, startGateway, tenantKeys, type GatewayUnderTest } from '../harness/gateway';

const marker = (name: string) => `${name}-m${randomUUID().slice(0, 8)}`;
const ask = (text: string) => [{ role: 'user' as const, content: text }];

describe('gateway: OpenAI-compatible chat completions', () => {
  let t: GatewayUnderTest;
  let openai: OpenAI;

  beforeAll(async () => {
    t = await startGateway({
      gateway: { requestTimeoutMs: 2_000, admission: { segments: { untrusted: { requestsPerMinute: 2 }, trusted: {}, premium: {} } } },
    });
    openai = t.openai();
  });
  afterAll(async () => {
    await t?.close();
  });
  afterEach(() => t.vendor.clearFaults());

  it('answers with the model that answered, its usage and the Switchboard headers', async () => {
    const m = marker('plain');
    const { data, response } = await openai.chat.completions
      .create({ model: 'chat-default', messages: ask(`Say hello ${m} [[say:hello from the gateway]]`) })
      .withResponse();
    expect(data.choices[0]!.message.content).toBe('hello from the gateway');
    expect(data.model).toBe('gpt-4o-mini');
    expect(data.usage!.completion_tokens).toBeGreaterThan(0);
    expect(data.usage!.total_tokens).toBe(data.usage!.prompt_tokens + data.usage!.completion_tokens);
    expect(response.headers.get('x-switchboard-provider')).toBe('openai');
    const upstream = response.headers.get('x-switchboard-upstream');
    expect(upstream).toMatch(/^openai\/org-[abc]$/);
    expect(response.headers.get('server-timing')).toMatch(/^gateway;dur=[\d.]+, call;dur=[\d.]+$/);
    const callId = response.headers.get('x-switchboard-call-id')!;
    const seen = t.vendor.requests({ contains: [m] });
    expect(seen.map((r) => r.organisation)).toEqual([upstream]);
    const description = await t.client.workflow.getHandle(callId).describe();
    expect((description.searchAttributes as Record<string, unknown[]>).SbTenant).toEqual(['acme']);
  });

  it('passes tools and returns tool calls', async () => {
    const m = marker('tools');
    const completion = await openai.chat.completions.create({
      model: 'chat-default',
      messages: ask(`What is the weather in Paris? ${m}`),
      tools: [
        { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } },
      ],
      tool_choice: 'required',
    });
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    const call = choice.message.tool_calls![0]!;
    expect(call.type).toBe('function');
    if (call.type !== 'function') throw new Error('not a function call');
    expect(call.function.name).toBe('get_weather');
    expect(typeof (JSON.parse(call.function.arguments) as { city: unknown }).city).toBe('string');
    expect(t.vendor.requests({ contains: [m] })).toHaveLength(1);
  });

  it('realises response_format json_schema as structured output', async () => {
    const m = marker('structured');
    const schema = {
      type: 'object',
      properties: { title: { type: 'string' }, pages: { type: 'integer', minimum: 1, maximum: 9 } },
      required: ['title', 'pages'],
      additionalProperties: false,
    };
    const completion = await openai.chat.completions.create({
      model: 'chat-default',
      messages: ask(`Plan a site ${m}`),
      response_format: { type: 'json_schema', json_schema: { name: 'site_plan', schema, strict: true } },
    });
    const parsed = JSON.parse(completion.choices[0]!.message.content!) as { title: unknown; pages: number };
    expect(typeof parsed.title).toBe('string');
    expect(parsed.pages).toBeGreaterThanOrEqual(1);
  });

  it('serves the Anthropic messages API on the same machinery', async () => {
    const m = marker('anthropic');
    const anthropic = new Anthropic({ apiKey: tenantKeys.acme, baseURL: t.url, maxRetries: 0 });
    const message = await anthropic.messages.create({
      model: 'chat-default',
      max_tokens: 200,
      messages: [{ role: 'user', content: `Hi ${m} [[say:hi there]]` }],
    });
    expect(message.content).toEqual([{ type: 'text', text: 'hi there' }]);
    expect(message.model).toBe('gpt-4o-mini');
    const events: string[] = [];
    const stream = await anthropic.messages.create({
      model: 'chat-default',
      max_tokens: 200,
      stream: true,
      messages: [{ role: 'user', content: `Again ${m} [[say:streamed hi]]` }],
    });
    let text = '';
    for await (const event of stream) {
      events.push(event.type);
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
    }
    expect(text).toBe('streamed hi');
    expect(events.at(-1)).toBe('message_stop');
  });

  it('rejects a missing or wrong API key with 401 and an OpenAI-style body', async () => {
    const wrong = await apiError(t.openai('sk-not-a-tenant-key').chat.completions.create({ model: 'chat-default', messages: ask('hi') }));
    expect(wrong.status).toBe(401);
    expect(wrong.error).toEqual(expect.objectContaining({ type: 'authentication_error', code: 'invalid_api_key' }));
    expect(JSON.stringify(wrong.error)).not.toContain('sk-not-a-tenant-key');
    const missing = await fetch(`${t.url}/v1/chat/completions`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({ error: expect.objectContaining({ type: 'authentication_error', code: 'missing_api_key' }) });
  });

  it('answers bad input with 400 and starts nothing', async () => {
    const m = marker('bad-input');
    const post = (body: string) =>
      fetch(`${t.url}/v1/chat/completions`, {
        method: 'POST',
        body,
        headers: { authorization: `Bearer ${tenantKeys.acme}`, 'content-type': 'application/json' },
      });
    const malformed = await post(`{"model": "chat-default", "messages": [${m}`);
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: { code: string } }).error.code).toBe('invalid_json');

    const unknownRoute = await apiError(openai.chat.completions.create({ model: 'no-such-route', messages: ask(m) }));
    expect(unknownRoute.status).toBe(404); // as OpenAI answers an unknown model
    expect(unknownRoute.error).toEqual(expect.objectContaining({ code: 'model_not_found', param: 'model' }));

    const oversized = await post(JSON.stringify({ model: 'chat-default', messages: ask(`${m} ${'x'.repeat(70 * 1024)}`) }));
    expect(oversized.status).toBe(400);
    expect(((await oversized.json()) as { error: { code: string } }).error.code).toBe('request_too_large');

    const invalid = await apiError(openai.chat.completions.create({ model: 'chat-default', messages: ask(m), temperature: 7 }));
    expect(invalid.status).toBe(400);
    expect(invalid.error).toEqual(expect.objectContaining({ param: 'temperature' }));

    const badKey = await apiError(
      openai.chat.completions.create({ model: 'chat-default', messages: ask(m) }, { headers: { 'Idempotency-Key': 'spaces are not allowed' } }),
    );
    expect(badKey.status).toBe(400);
    expect(badKey.error).toEqual(expect.objectContaining({ param: 'Idempotency-Key' }));

    expect(t.vendor.requests({ contains: [m] })).toHaveLength(0);
  });

  it('maps the same Idempotency-Key to one workflow and one vendor request', async () => {
    const m = marker('idem');
    const key = `key-${randomUUID()}`;
    const first = await openai.chat.completions
      .create({ model: 'chat-default', messages: ask(`Once ${m}`) }, { headers: { 'Idempotency-Key': key } })
      .withResponse();
    const second = await openai.chat.completions
      .create({ model: 'chat-default', messages: ask(`Once ${m}`) }, { headers: { 'Idempotency-Key': key } })
      .withResponse();
    expect(second.response.headers.get('x-switchboard-call-id')).toBe(first.response.headers.get('x-switchboard-call-id'));
    expect(second.data.choices[0]!.message.content).toBe(first.data.choices[0]!.message.content);
    expect(t.vendor.requests({ contains: [m] })).toHaveLength(1);
  });

  it('refuses a user over their limit with 429, retry-after and no vendor call', async () => {
    const m = marker('limit');
    const user = `hammer-${randomUUID().slice(0, 8)}`;
    const call = () => openai.chat.completions.create({ model: 'chat-default', messages: ask(`Again ${m}`), user });
    await call();
    await call();
    const refused = await apiError(call());
    expect(refused.status).toBe(429);
    expect(Number(refused.headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.error).toEqual(expect.objectContaining({ type: 'rate_limit_error', code: 'requests_per_minute' }));
    expect(t.vendor.requests({ contains: [m] })).toHaveLength(2);
    // Another user is not affected.
    await openai.chat.completions.create({ model: 'chat-default', messages: ask(`Other ${m}`), user: `calm-${randomUUID().slice(0, 8)}` });
  });

  it('accepts feedback on the tenant’s own call and rejects another tenant’s', async () => {
    const m = marker('feedback');
    const { response } = await openai.chat.completions.create({ model: 'chat-default', messages: ask(`Write ${m}`) }).withResponse();
    const callId = response.headers.get('x-switchboard-call-id')!;
    const sub = t.nats.subscribe('sb.feedback.acme', { max: 1 });
    const received = (async () => {
      for await (const message of sub) return JSONCodec<Record<string, unknown>>().decode(message.data);
      return undefined;
    })();
    const send = (key: string, body: unknown) =>
      fetch(`${t.url}/v1/feedback`, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      });

    const foreign = await send(tenantKeys.globex, { callId, inserted: true });
    expect(foreign.status).toBe(404);
    const invalid = await send(tenantKeys.acme, { callId, inserted: 'yes' });
    expect(invalid.status).toBe(400);
    const own = await send(tenantKeys.acme, { callId, inserted: true, note: 'kept it' });
    expect(own.status).toBe(202);
    expect(await received).toEqual(expect.objectContaining({ callId, inserted: true, note: 'kept it', tenant: 'acme' }));
  });

  it('answers 408 to a body that trickles in, within its request timeout, not tens of seconds later', async () => {
    const url = new URL(t.url);
    const started = Date.now();
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write(
          `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${tenantKeys.acme}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"model":`,
        );
      });
      let received = '';
      socket.on('data', (chunk) => (received += chunk.toString()));
      socket.on('close', () => resolve(received));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    // requestTimeoutMs is 2 s here; Node checks every second.
    expect(Date.now() - started).toBeLessThan(6_000);
  });

  it('serves healthz, readyz and Prometheus metrics', async () => {
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${t.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ temporal: 'ok', nats: 'ok' });
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toContain('sb_gateway_requests_total{endpoint="chat",route="chat-default",status="200"}');
    expect(metrics).toContain('sb_gateway_admission_rejected_total{reason="requests_per_minute"} 1');
  });

  it("passes the vendor's reason through on a caller's fault (400), and keeps vendor text out of the attempt summary", async () => {
    const m = marker('policy');
    const reason = `Rejected by the safety system ${m}`;
    for (const org of ['openai/org-a', 'openai/org-b', 'openai/org-c'])
      t.vendor.setFault({ organisation: org, promptContains: m, fault: { kind: 'content_policy_violation', message: reason } });
    const rejected = await apiError(openai.chat.completions.create({ model: 'chat-default', messages: ask(`Something ${m}`) }));
    expect(rejected.status).toBe(400);
    const body = rejected.error as { code: string; message: string; switchboard: { attempts: Array<Record<string, unknown>> } };
    expect(body.code).toBe('SbContentPolicy');
    expect(body.message).toContain(reason);
    expect(body.switchboard.attempts).toHaveLength(1);
    expect(JSON.stringify(body.switchboard)).not.toContain(m);
    // Not resent: the caller's request is at fault.
    expect(t.vendor.requests({ contains: [m] })).toHaveLength(1);
  });

  // Last: it fails every upstream, which trips this Switchboard's breakers.
  it('answers 503 with the attempt summary when every upstream is down', async () => {
    const m = marker('down');
    for (const org of ['openai/org-a', 'openai/org-b', 'openai/org-c', 'anthropic/org-a']) {
      t.vendor.setFault({ organisation: org, promptContains: m, fault: { kind: 'status', status: 503 } });
    }
    const down = await apiError(openai.chat.completions.create({ model: 'chat-default', messages: ask(`Anything ${m}`) }));
    expect(down.status).toBe(503);
    const body = down.error as { code: string; switchboard: { attempts: Array<{ provider: string; status: number | null }> } };
    expect(body.code).toBe('SbUpstreamsExhausted');
    expect(body.switchboard.attempts.length).toBeGreaterThanOrEqual(2);
    expect(new Set(body.switchboard.attempts.map((a) => a.provider))).toEqual(new Set(['openai', 'anthropic']));
    expect(t.vendor.requests({ contains: [m] }).every((r) => r.status === 503)).toBe(true);
    // Not the caller's fault: Switchboard's own summary, never the vendors' texts.
    expect((down.error as { message: string }).message).not.toMatch(/overloaded|engine/i);
  });
});
