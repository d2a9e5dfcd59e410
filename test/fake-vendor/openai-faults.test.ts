import OpenAI from 'openai';
import { startFakeVendor, type FakeVendor } from '../../services/fake-vendor';
import { drain, KEYS, openAiClient, rejectionOf, testConfig } from './fixtures';

let vendor: FakeVendor;
let client: OpenAI;
const ORG = 'openai/org-a';

beforeAll(async () => {
  vendor = await startFakeVendor({ config: testConfig(), port: 0 });
  client = openAiClient(vendor, KEYS.orgA, 2_000);
});
afterAll(() => vendor.close());
beforeEach(() => {
  vendor.clearFaults();
  vendor.resetLog();
});

const user = (content: string): OpenAI.ChatCompletionMessageParam[] => [{ role: 'user', content }];
const ask = (c: OpenAI = client, content = 'hello', model = 'gpt-4o') => c.chat.completions.create({ model, messages: user(content) });
const askStream = (content = '[[tokens:8]]', options: OpenAI.RequestOptions = {}) =>
  client.chat.completions.create({ model: 'gpt-4o', messages: user(content), stream: true }, options);
type ApiError = InstanceType<typeof OpenAI.APIError>;

describe('OpenAI faults', () => {
  it.each([500, 502, 503, 529])('status %i gives an InternalServerError with the vendor body and rate-limit headers', async (status) => {
    vendor.setFault({ organisation: ORG, fault: { kind: 'status', status } });
    const error = (await rejectionOf(ask())) as ApiError;
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect(error.status).toBe(status);
    expect(error.type).toBe('server_error');
    expect(error.headers?.get('x-ratelimit-limit-requests')).toBe('10000');
    expect(error.requestID).toMatch(/^req_/);
    expect(vendor.requests()[0]).toMatchObject({ fault: 'status', faults: ['status'], status });
  });

  it('can answer a status with a load balancer HTML page or no body', async () => {
    const html = vendor.setFault({ organisation: ORG, fault: { kind: 'status', status: 502, body: 'html' } });
    const error = (await rejectionOf(ask())) as ApiError;
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect(error.message).toContain('502 Bad Gateway');
    vendor.removeFault(html);
    vendor.setFault({ organisation: ORG, fault: { kind: 'status', status: 503, body: 'empty' } });
    expect(((await rejectionOf(ask())) as ApiError).status).toBe(503);
  });

  it('applies an error rate reproducibly (seeded probability)', async () => {
    vendor.setFault({ organisation: ORG, probability: 0.3, fault: { kind: 'status', status: 500 } });
    let failures = 0;
    for (let i = 0; i < 100; i++) {
      try {
        await ask();
      } catch {
        failures++;
      }
    }
    expect(failures).toBeGreaterThan(15);
    expect(failures).toBeLessThan(45);
    expect(vendor.requests().filter((r) => r.fault === 'status')).toHaveLength(failures);
  });

  it('fails N times then succeeds, and the spent rule retires', async () => {
    vendor.setFault({ organisation: ORG, times: 2, fault: { kind: 'status', status: 503 } });
    await expect(ask()).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    await expect(ask()).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    await expect(ask()).resolves.toMatchObject({ object: 'chat.completion' });
    expect(vendor.faults()).toEqual([]);
  });

  it('targets one model, one kind of request, or prompts containing a phrase', async () => {
    vendor.setFault({ organisation: ORG, model: 'gpt-4o-mini', fault: { kind: 'status', status: 500 } });
    vendor.setFault({
      organisation: ORG,
      promptContains: 'Transparent',
      fault: { kind: 'content_policy_violation', message: 'transparent backgrounds are not allowed' },
    });
    vendor.setFault({ organisation: ORG, stream: true, fault: { kind: 'status', status: 502 } });
    await expect(ask(client, 'hello', 'gpt-4o')).resolves.toBeDefined();
    await expect(ask(client, 'hello', 'gpt-4o-mini')).rejects.toMatchObject({ status: 500 });
    const policy = (await rejectionOf(ask(client, 'a logo with a transparent background'))) as ApiError;
    expect(policy).toBeInstanceOf(OpenAI.BadRequestError);
    expect(policy.code).toBe('content_policy_violation');
    expect(policy.message).toContain('transparent backgrounds are not allowed');
    expect(await rejectionOf(askStream())).toMatchObject({ status: 502 });
    // Other organisations are untouched.
    await expect(ask(openAiClient(vendor, KEYS.orgB), 'hello', 'gpt-4o-mini')).resolves.toBeDefined();
  });

  it('adds fixed or distributed latency before the headers, errors included', async () => {
    vendor.setFault({ organisation: ORG, fault: { kind: 'latency', ms: 150 } });
    let started = Date.now();
    await ask();
    expect(Date.now() - started).toBeGreaterThanOrEqual(145);
    vendor.clearFaults(ORG);
    vendor.setFault({ organisation: ORG, fault: { kind: 'latency', distribution: 'uniform', minMs: 60, maxMs: 80 } });
    vendor.setFault({ organisation: ORG, fault: { kind: 'status', status: 500 } });
    started = Date.now();
    await expect(ask()).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
    expect(vendor.requests().at(-1)).toMatchObject({ fault: 'status', faults: ['latency', 'status'] });
  });

  it('delays the first token of a stream, not the headers', async () => {
    vendor.setFault({ organisation: ORG, fault: { kind: 'slow_first_token', ttftMs: 250 } });
    const started = Date.now();
    const stream = await askStream();
    const headersMs = Date.now() - started;
    let firstTokenMs = -1;
    for await (const chunk of stream) {
      if (firstTokenMs < 0 && chunk.choices[0]?.delta.content) firstTokenMs = Date.now() - started;
    }
    expect(firstTokenMs).toBeGreaterThanOrEqual(245);
    expect(headersMs).toBeLessThan(firstTokenMs);
  });

  it('answers 429 with and without retry-after', async () => {
    const withHeader = vendor.setFault({ organisation: ORG, fault: { kind: 'rate_limit', retryAfterSeconds: 7 } });
    const first = (await rejectionOf(ask())) as ApiError;
    expect(first).toBeInstanceOf(OpenAI.RateLimitError);
    expect(first.headers?.get('retry-after')).toBe('7');
    expect(first.code).toBe('rate_limit_exceeded');
    vendor.removeFault(withHeader);
    vendor.setFault({ organisation: ORG, fault: { kind: 'rate_limit', scope: 'tokens' } });
    const second = (await rejectionOf(ask())) as ApiError;
    expect(second).toBeInstanceOf(OpenAI.RateLimitError);
    expect(second.headers?.get('retry-after')).toBeNull();
    expect(second.type).toBe('tokens');
  });

  it.each([
    ['deactivated', OpenAI.AuthenticationError, 401, 'account_deactivated'],
    ['invalid_key', OpenAI.AuthenticationError, 401, 'invalid_api_key'],
    ['billing', OpenAI.RateLimitError, 429, 'insufficient_quota'],
    ['forbidden', OpenAI.PermissionDeniedError, 403, 'model_not_found'],
  ] as const)('account_locked %s gives %p', async (reason, errorClass, status, code) => {
    vendor.setFault({ organisation: ORG, fault: { kind: 'account_locked', reason } });
    const error = (await rejectionOf(ask())) as ApiError;
    expect(error).toBeInstanceOf(errorClass);
    expect(error.status).toBe(status);
    expect(error.code).toBe(code);
  });

  it('answers context_length_exceeded', async () => {
    vendor.setFault({ organisation: ORG, fault: { kind: 'context_length_exceeded' } });
    const error = (await rejectionOf(ask())) as ApiError;
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.code).toBe('context_length_exceeded');
    expect(error.param).toBe('messages');
  });

  it('resets the connection before the headers', async () => {
    vendor.setFault({ organisation: ORG, fault: { kind: 'reset_before_headers' } });
    const error = await rejectionOf(ask());
    expect(error).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(error).not.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(vendor.requests()[0]).toMatchObject({ fault: 'reset_before_headers', status: null });
  });

  it('accepts and never answers, until the client times out', async () => {
    vendor.setFault({ organisation: ORG, fault: { kind: 'hang' } });
    const started = Date.now();
    const error = await rejectionOf(ask(openAiClient(vendor, KEYS.orgA, 300)));
    expect(error).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(295);
  });

  it('cuts a stream mid-answer without a terminator', async () => {
    vendor.setFault({ organisation: ORG, fault: { kind: 'stream_cut', afterChunks: 3 } });
    const { items, error } = await drain(await askStream('[[tokens:10]]'));
    // Node's fetch reports the vanished socket while the SDK reads the body.
    expect(error).toMatchObject({ name: 'TypeError', message: 'terminated' });
    expect(items.filter((c) => c.choices[0]?.delta.content)).toHaveLength(3);
    expect(items.some((c) => c.choices[0]?.finish_reason)).toBe(false);
    expect(vendor.requests()[0]).toMatchObject({ fault: 'stream_cut', stream: true, status: 200 });
  });

  it('stalls a stream for stallMs, then resumes', async () => {
    vendor.setFault({ organisation: ORG, fault: { kind: 'stream_stall', afterChunks: 2, stallMs: 250 } });
    const started = Date.now();
    const { items, error } = await drain(await askStream('[[tokens:6]]'));
    expect(error).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(245);
    expect(items.filter((c) => c.choices[0]?.delta.content)).toHaveLength(6);
  });

  it('stalls a stream forever, until the client aborts', async () => {
    vendor.setFault({ organisation: ORG, fault: { kind: 'stream_stall', afterChunks: 2 } });
    const controller = new AbortController();
    const stream = await askStream('[[tokens:6]]', { signal: controller.signal });
    const seen: string[] = [];
    const timer = setTimeout(() => controller.abort(), 300);
    const { error } = await drain(
      (async function* () {
        for await (const chunk of stream) {
          const content = chunk.choices[0]?.delta.content;
          if (content) seen.push(content);
          yield chunk;
        }
      })(),
    );
    clearTimeout(timer);
    expect(seen).toHaveLength(2);
    expect(controller.signal.aborted).toBe(true);
    // The SDK ends an aborted stream quietly or with an abort error; either way no more tokens came.
    if (error !== undefined) expect(error).toBeInstanceOf(Error);
  });

  it('sends one malformed SSE chunk', async () => {
    vendor.setFault({ organisation: ORG, fault: { kind: 'malformed_chunk', afterChunks: 2 } });
    const { items, error } = await drain(await askStream());
    expect(error).toBeInstanceOf(SyntaxError);
    expect(items.filter((c) => c.choices[0]?.delta.content)).toHaveLength(2);
  });

  it('ends a stream without data: [DONE]', async () => {
    vendor.setFault({ organisation: ORG, fault: { kind: 'missing_done' } });
    const response = await fetch(`${vendor.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.orgA}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', stream: true, messages: user('[[tokens:3]]') }),
    });
    const text = await response.text();
    expect(text).toContain('"finish_reason":"stop"');
    expect(text).not.toContain('[DONE]');
    // The SDK cannot tell: the stream ends without an error.
    const { items, error } = await drain(await askStream('[[tokens:3]]'));
    expect(error).toBeUndefined();
    expect(items.at(-1)?.choices[0]?.finish_reason).toBe('stop');
  });

  it('holds the connection open after the last chunk when asked', async () => {
    vendor.setFault({ organisation: ORG, fault: { kind: 'missing_done', holdOpenMs: 250 } });
    const started = Date.now();
    const { error } = await drain(await askStream('[[tokens:3]]'));
    expect(error).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(245);
  });

  it('sends an error event mid-stream', async () => {
    vendor.setFault({ organisation: ORG, fault: { kind: 'stream_error', afterChunks: 1, status: 500 } });
    const { items, error } = await drain(await askStream());
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as ApiError).type).toBe('server_error');
    expect(items.filter((c) => c.choices[0]?.delta.content)).toHaveLength(1);
  });

  it('answers a json_schema request with invalid JSON, and leaves plain requests alone', async () => {
    vendor.setFault({ organisation: ORG, fault: { kind: 'invalid_json' } });
    const schema = { type: 'object', properties: { name: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } } }, required: ['name', 'tags'] };
    const completion = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: user('give me json'),
      response_format: { type: 'json_schema', json_schema: { name: 'thing', schema } },
    });
    expect(() => JSON.parse(completion.choices[0]?.message.content ?? '')).toThrow(SyntaxError);
    const tool = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: user('call it'),
      tools: [{ type: 'function', function: { name: 'thing', parameters: schema } }],
      tool_choice: 'required',
    });
    const call = tool.choices[0]?.message.tool_calls?.[0];
    expect(call?.type === 'function' && (() => JSON.parse(call.function.arguments))).toThrow(SyntaxError);
    await ask();
    expect(vendor.requests().map((r) => r.fault)).toEqual(['invalid_json', 'invalid_json', null]);
  });
});
