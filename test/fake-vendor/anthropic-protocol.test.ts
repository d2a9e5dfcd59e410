import Anthropic from '@anthropic-ai/sdk';
import { startFakeVendor, type FakeVendor } from '../../services/fake-vendor';
import { countTokens } from '../../services/fake-vendor/tokenizer';
import { anthropicClient, drain, KEYS, matchesSchema, rejectionOf, testConfig, type ObjectSchema } from './fixtures';

let vendor: FakeVendor;
let client: Anthropic;

beforeAll(async () => {
  vendor = await startFakeVendor({ config: testConfig(), port: 0 });
  client = anthropicClient(vendor);
});
afterAll(() => vendor.close());
beforeEach(() => vendor.resetLog());

// claude-sonnet-4-5 works too, but the SDK warns that it is deprecated.
const MODEL = 'claude-sonnet-4-6';
const user = (content: string): Anthropic.MessageParam[] => [{ role: 'user', content }];

const siteSchema: ObjectSchema = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 3 },
    pages: {
      type: 'array',
      minItems: 2,
      items: { type: 'object', properties: { title: { type: 'string' }, order: { type: 'integer' } }, required: ['title', 'order'] },
    },
    theme: { type: 'string', enum: ['light', 'dark'] },
  },
  required: ['name', 'pages', 'theme'],
};

describe('Anthropic messages', () => {
  it('answers deterministically with usage consistent with the content', async () => {
    const request = { model: MODEL, max_tokens: 200, system: 'Be kind.', messages: user('Hello') };
    const first = await client.messages.create(request);
    const second = await client.messages.create(request);
    expect(first.type).toBe('message');
    expect(first.role).toBe('assistant');
    expect(first.stop_reason).toBe('end_turn');
    const block = first.content[0];
    if (block?.type !== 'text') throw new Error('expected text');
    expect(second.content).toEqual(first.content);
    expect(first.usage.output_tokens).toBe(countTokens(block.text));
    expect(first.usage.input_tokens).toBe(countTokens('system: Be kind.\nuser: Hello'));
  });

  it('stops at max_tokens and at stop sequences', async () => {
    const capped = await client.messages.create({ model: MODEL, max_tokens: 4, messages: user('[[tokens:20]]') });
    expect(capped.stop_reason).toBe('max_tokens');
    expect(capped.usage.output_tokens).toBe(4);
    const stopped = await client.messages.create({ model: MODEL, max_tokens: 50, messages: user('[[say:alpha beta gamma]]'), stop_sequences: [' gamma'] });
    expect(stopped.stop_reason).toBe('stop_sequence');
    expect(stopped.stop_sequence).toBe(' gamma');
    expect(stopped.content).toEqual([{ type: 'text', text: 'alpha beta' }]);
  });

  it('streams the full event sequence, one delta per token', async () => {
    const stream = await client.messages.create({ model: MODEL, max_tokens: 100, messages: user('[[say:hello streaming world]]'), stream: true });
    const { items, error } = await drain(stream);
    expect(error).toBeUndefined();
    const types = items.map((e) => e.type);
    expect(types[0]).toBe('message_start');
    expect(types[1]).toBe('content_block_start');
    expect(types.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    const deltas = items.filter((e): e is Anthropic.RawContentBlockDeltaEvent => e.type === 'content_block_delta');
    expect(deltas).toHaveLength(countTokens('hello streaming world'));
    expect(deltas.map((d) => (d.delta.type === 'text_delta' ? d.delta.text : '')).join('')).toBe('hello streaming world');
    const messageDelta = items.find((e): e is Anthropic.RawMessageDeltaEvent => e.type === 'message_delta');
    expect(messageDelta?.delta.stop_reason).toBe('end_turn');
    expect(messageDelta?.usage.output_tokens).toBe(deltas.length);
  });

  it('sends a ping event on the wire', async () => {
    const response = await fetch(`${vendor.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': KEYS.anthropic, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, max_tokens: 10, stream: true, messages: user('hi') }),
    });
    const text = await response.text();
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    expect(text).toContain('event: ping\n');
    expect(text.trimEnd().endsWith('data: {"type":"message_stop"}')).toBe(true);
  });

  it('builds the final message with the SDK stream helper', async () => {
    const final = await client.messages.stream({ model: MODEL, max_tokens: 100, messages: user('[[say:assembled]]') }).finalMessage();
    expect(final.content).toEqual([{ type: 'text', text: 'assembled' }]);
    expect(final.usage.output_tokens).toBe(countTokens('assembled'));
  });

  it('realises structured output by forced tool use, input valid for input_schema', async () => {
    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 1000,
      messages: user('plan a site'),
      tools: [{ name: 'site_plan', input_schema: siteSchema }],
      tool_choice: { type: 'tool', name: 'site_plan' },
    });
    expect(message.stop_reason).toBe('tool_use');
    const block = message.content[0];
    if (block?.type !== 'tool_use') throw new Error('expected tool_use');
    expect(block.name).toBe('site_plan');
    expect(block.id).toMatch(/^toolu_/);
    expect(matchesSchema(siteSchema, block.input)).toBe(true);
  });

  it('answers native output_config.format json_schema with JSON text valid for the schema', async () => {
    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 1000,
      messages: user('plan a site'),
      output_config: { format: { type: 'json_schema', schema: siteSchema } },
    });
    const block = message.content[0];
    if (block?.type !== 'text') throw new Error('expected text');
    expect(matchesSchema(siteSchema, JSON.parse(block.text))).toBe(true);
  });

  it('streams tool input as input_json_delta and the helper assembles it', async () => {
    const stream = client.messages.stream({
      model: MODEL,
      max_tokens: 1000,
      messages: user('plan'),
      tools: [{ name: 'site_plan', input_schema: siteSchema }],
      tool_choice: { type: 'any' },
    });
    const deltaTypes = new Set<string>();
    stream.on('streamEvent', (event) => {
      if (event.type === 'content_block_delta') deltaTypes.add(event.delta.type);
    });
    const final = await stream.finalMessage();
    expect([...deltaTypes]).toEqual(['input_json_delta']);
    const block = final.content[0];
    if (block?.type !== 'tool_use') throw new Error('expected tool_use');
    expect(matchesSchema(siteSchema, block.input)).toBe(true);
  });

  it('uses a tool under auto only when the prompt says [[tool]], and not after a tool result', async () => {
    const tools: Anthropic.Tool[] = [{ name: 'lookup', input_schema: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] } }];
    const plain = await client.messages.create({ model: MODEL, max_tokens: 100, messages: user('hi'), tools });
    expect(plain.content[0]?.type).toBe('text');
    const used = await client.messages.create({ model: MODEL, max_tokens: 100, messages: user('hi [[tool]]'), tools });
    const block = used.content[0];
    if (block?.type !== 'tool_use') throw new Error('expected tool_use');
    const after = await client.messages.create({
      model: MODEL,
      max_tokens: 100,
      tools,
      messages: [
        ...user('hi [[tool]]'),
        { role: 'assistant', content: [block] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: block.id, content: 'found' }] },
      ],
    });
    expect(after.content[0]?.type).toBe('text');
  });

  it('lists models with the Anthropic shape', async () => {
    const ids = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toEqual(['claude-sonnet-4-5', 'claude-haiku-4-5', 'claude-sonnet-4-6']);
    expect((await client.models.retrieve('claude-haiku-4-5')).display_name).toBe('Claude Haiku 4.5');
  });

  it('answers unknown keys with 401 authentication_error', async () => {
    const error = await rejectionOf(anthropicClient(vendor, 'sk-ant-wrong-key').messages.create({ model: MODEL, max_tokens: 10, messages: user('hi') }));
    expect(error).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((error as InstanceType<typeof Anthropic.AuthenticationError>).error).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    const openAiKey = await rejectionOf(anthropicClient(vendor, KEYS.orgA).messages.create({ model: MODEL, max_tokens: 10, messages: user('hi') }));
    expect(openAiKey).toBeInstanceOf(Anthropic.AuthenticationError);
  });

  it('requires the anthropic-version header', async () => {
    const response = await fetch(`${vendor.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': KEYS.anthropic, 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, max_tokens: 10, messages: user('hi') }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ type: 'error', error: { type: 'invalid_request_error', message: 'anthropic-version: header is required' } });
    expect(response.headers.get('request-id')).toMatch(/^req_/);
  });

  it('requires max_tokens and names it', async () => {
    const response = await fetch(`${vendor.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': KEYS.anthropic, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, messages: user('hi') }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { type: 'invalid_request_error', message: expect.stringContaining('max_tokens') } });
  });

  it('answers unknown models with 404 not_found_error', async () => {
    const error = await rejectionOf(client.messages.create({ model: 'claude-9', max_tokens: 10, messages: user('hi') }));
    expect(error).toBeInstanceOf(Anthropic.NotFoundError);
  });

  it('records the system prompt in the prompt text', async () => {
    await client.messages.create({ model: 'claude-haiku-4-5', max_tokens: 10, system: 'SECRET-SYSTEM', messages: user('hello') });
    const [record] = vendor.requests({ contains: ['secret-system'], includePrompt: true });
    expect(record).toMatchObject({
      protocol: 'anthropic',
      organisation: 'anthropic/org-a',
      keyName: 'anthropic-org-a-1',
      model: 'claude-haiku-4-5',
      status: 200,
    });
    expect(record?.promptText).toBe('system: SECRET-SYSTEM\nuser: hello');
  });
});
