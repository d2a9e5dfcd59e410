import Anthropic from '@anthropic-ai/sdk';
import { startFakeVendor, type FakeVendor } from '../../services/fake-vendor';
import { anthropicClient, drain, KEYS, matchesSchema, rejectionOf, testConfig, type ObjectSchema } from './fixtures';

let vendor: FakeVendor;
let client: Anthropic;
const ORG = 'anthropic/org-a';
const MODEL = 'claude-haiku-4-5';

beforeAll(async () => {
  vendor = await startFakeVendor({ config: testConfig(), port: 0 });
  client = anthropicClient(vendor, KEYS.anthropic, 2_000);
});
afterAll(() => vendor.close());
beforeEach(() => {
  vendor.clearFaults();
  vendor.resetLog();
});

const ask = (c: Anthropic = client, content = 'hello') => c.messages.create({ model: MODEL, max_tokens: 100, messages: [{ role: 'user', content }] });
const askStream = (content = '[[tokens:8]]') => client.messages.create({ model: MODEL, max_tokens: 100, messages: [{ role: 'user', content }], stream: true });
type ApiError = InstanceType<typeof Anthropic.APIError>;
const textDeltas = (events: Anthropic.RawMessageStreamEvent[]) => events.filter((e) => e.type === 'content_block_delta');

describe('Anthropic faults', () => {
  it('529 is an OverloadedError with overloaded_error', async () => {
    vendor.setFault({ organisation: ORG, fault: { kind: 'status', status: 529 } });
    const error = (await rejectionOf(ask())) as ApiError;
    expect(error).toBeInstanceOf(Anthropic.OverloadedError);
    expect(error.status).toBe(529);
    expect(error.error).toEqual({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
    expect(error.headers?.get('anthropic-ratelimit-requests-limit')).toBe('10000');
    expect(error.requestID).toMatch(/^req_/);
  });

  it.each([
    [500, Anthropic.InternalServerError, 'api_error'],
    [503, Anthropic.ServiceUnavailableError, 'api_error'],
    [504, Anthropic.GatewayTimeoutError, 'timeout_error'],
  ] as const)('status %i gives %p', async (status, errorClass, type) => {
    vendor.setFault({ organisation: ORG, fault: { kind: 'status', status } });
    const error = (await rejectionOf(ask())) as ApiError;
    expect(error).toBeInstanceOf(errorClass);
    expect(error.error).toMatchObject({ error: { type } });
  });

  it.each([
    ['deactivated', Anthropic.AuthenticationError, 'authentication_error'],
    ['billing', Anthropic.PaymentRequiredError, 'billing_error'],
    ['forbidden', Anthropic.PermissionDeniedError, 'permission_error'],
  ] as const)('account_locked %s gives %p', async (reason, errorClass, type) => {
    vendor.setFault({ organisation: ORG, fault: { kind: 'account_locked', reason } });
    const error = (await rejectionOf(ask())) as ApiError;
    expect(error).toBeInstanceOf(errorClass);
    expect(error.error).toMatchObject({ type: 'error', error: { type } });
  });

  it('answers prompt is too long and content policy as invalid_request_error', async () => {
    vendor.setFault({ organisation: ORG, times: 1, fault: { kind: 'context_length_exceeded' } });
    const long = (await rejectionOf(ask())) as ApiError;
    expect(long).toBeInstanceOf(Anthropic.BadRequestError);
    expect(long.message).toMatch(/prompt is too long: \d+ tokens > 200000 maximum/);
    vendor.setFault({ organisation: ORG, times: 1, fault: { kind: 'content_policy_violation' } });
    expect(await rejectionOf(ask())).toBeInstanceOf(Anthropic.BadRequestError);
  });

  it('answers 429 rate_limit_error with retry-after from a fault', async () => {
    vendor.setFault({ organisation: ORG, fault: { kind: 'rate_limit', retryAfterSeconds: 3 } });
    const error = (await rejectionOf(ask())) as ApiError;
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    expect(error.headers?.get('retry-after')).toBe('3');
  });

  it('resets before headers and hangs until the client times out', async () => {
    vendor.setFault({ organisation: ORG, times: 1, fault: { kind: 'reset_before_headers' } });
    const reset = await rejectionOf(ask());
    expect(reset).toBeInstanceOf(Anthropic.APIConnectionError);
    expect(reset).not.toBeInstanceOf(Anthropic.APIConnectionTimeoutError);
    vendor.setFault({ organisation: ORG, fault: { kind: 'hang' } });
    const started = Date.now();
    expect(await rejectionOf(ask(anthropicClient(vendor, KEYS.anthropic, 250)))).toBeInstanceOf(Anthropic.APIConnectionTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(245);
  });

  it('sends message_start at once and the first delta after the slow first token', async () => {
    vendor.setFault({ organisation: ORG, fault: { kind: 'slow_first_token', ttftMs: 200 } });
    const started = Date.now();
    let startMs = -1;
    let firstDeltaMs = -1;
    for await (const event of await askStream()) {
      if (event.type === 'message_start') startMs = Date.now() - started;
      if (event.type === 'content_block_delta' && firstDeltaMs < 0) firstDeltaMs = Date.now() - started;
    }
    expect(firstDeltaMs).toBeGreaterThanOrEqual(195);
    expect(startMs).toBeLessThan(firstDeltaMs);
  });

  it('sends an overloaded error event mid-stream', async () => {
    vendor.setFault({ organisation: ORG, fault: { kind: 'stream_error', afterChunks: 2 } });
    const { items, error } = await drain(await askStream());
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((error as ApiError).error).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
    expect(textDeltas(items)).toHaveLength(2);
    expect(vendor.requests()[0]).toMatchObject({ fault: 'stream_error', status: 200 });
  });

  it('cuts a stream without message_stop', async () => {
    vendor.setFault({ organisation: ORG, fault: { kind: 'stream_cut', afterChunks: 4 } });
    const { items, error } = await drain(await askStream());
    expect(error).toMatchObject({ name: 'TypeError', message: 'terminated' });
    expect(textDeltas(items)).toHaveLength(4);
    expect(items.some((e) => e.type === 'message_stop')).toBe(false);
  });

  it('sends a malformed event', async () => {
    vendor.setFault({ organisation: ORG, fault: { kind: 'malformed_chunk', afterChunks: 0 } });
    const { items, error } = await drain(await askStream());
    expect(error).toBeInstanceOf(SyntaxError);
    expect(textDeltas(items)).toHaveLength(0);
  });

  it('ends a stream without message_stop, which the SDK passes through silently', async () => {
    vendor.setFault({ organisation: ORG, fault: { kind: 'missing_done' } });
    const { items, error } = await drain(await askStream());
    expect(error).toBeUndefined();
    expect(items.at(-1)?.type).toBe('message_delta');
  });

  it('stalls a stream and resumes', async () => {
    vendor.setFault({ organisation: ORG, fault: { kind: 'stream_stall', afterChunks: 1, stallMs: 200 } });
    const started = Date.now();
    const { items, error } = await drain(await askStream('[[tokens:5]]'));
    expect(error).toBeUndefined();
    expect(textDeltas(items)).toHaveLength(5);
    expect(Date.now() - started).toBeGreaterThanOrEqual(195);
  });

  it('spoils forced tool use: input that fails the input_schema', async () => {
    vendor.setFault({ organisation: ORG, fault: { kind: 'invalid_json' } });
    const schema: ObjectSchema = { type: 'object', properties: { title: { type: 'string' }, count: { type: 'integer' } }, required: ['title', 'count'] };
    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 500,
      messages: [{ role: 'user', content: 'structured please' }],
      tools: [{ name: 'result', input_schema: schema }],
      tool_choice: { type: 'tool', name: 'result' },
    });
    const block = message.content[0];
    if (block?.type !== 'tool_use') throw new Error('expected tool_use');
    expect(matchesSchema(schema, block.input)).toBe(false);
    expect(block.input).not.toHaveProperty('title');
    expect(vendor.requests()[0]?.fault).toBe('invalid_json');
  });
});
