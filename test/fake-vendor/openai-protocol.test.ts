import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { startFakeVendor, type FakeVendor } from '../../services/fake-vendor';
import { countTokens } from '../../services/fake-vendor/tokenizer';
import { drain, KEYS, matchesSchema, openAiClient, rejectionOf, testConfig, type ObjectSchema } from './fixtures';

let vendor: FakeVendor;
let client: OpenAI;

beforeAll(async () => {
  vendor = await startFakeVendor({ config: testConfig(), port: 0 });
  client = openAiClient(vendor);
});
afterAll(() => vendor.close());
beforeEach(() => vendor.resetLog());

const user = (content: string): OpenAI.ChatCompletionMessageParam[] => [{ role: 'user', content }];

describe('OpenAI chat completions', () => {
  it('answers deterministically, with usage consistent with the content', async () => {
    const request = { model: 'gpt-4o', messages: [{ role: 'system' as const, content: 'Be brief.' }, ...user('Hello there')] };
    const first = await client.chat.completions.create(request);
    const second = await client.chat.completions.create(request);
    const content = first.choices[0]?.message.content ?? '';
    expect(first.object).toBe('chat.completion');
    expect(first.model).toBe('gpt-4o');
    expect(content.length).toBeGreaterThan(0);
    expect(second.choices[0]?.message.content).toBe(content);
    expect(first.choices[0]?.finish_reason).toBe('stop');
    expect(first.usage?.completion_tokens).toBe(countTokens(content));
    expect(first.usage?.prompt_tokens).toBe(countTokens('system: Be brief.\nuser: Hello there'));
    expect(first.usage?.total_tokens).toBe((first.usage?.prompt_tokens ?? 0) + (first.usage?.completion_tokens ?? 0));
    const other = await client.chat.completions.create({ model: 'gpt-4o', messages: user('Something else') });
    expect(other.choices[0]?.message.content).not.toBe(content);
  });

  it('honours [[say:]], [[echo]] and [[tokens:N]] directives', async () => {
    const say = await client.chat.completions.create({ model: 'gpt-4o', messages: user('[[say:exactly this]]') });
    expect(say.choices[0]?.message.content).toBe('exactly this');
    const echo = await client.chat.completions.create({ model: 'gpt-4o', messages: user('my email is <EMAIL_1> [[echo]]') });
    expect(echo.choices[0]?.message.content).toBe('my email is <EMAIL_1>');
    const prompt = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'system', content: 'S' }, ...user('U [[echo:prompt]]')] });
    expect(prompt.choices[0]?.message.content).toBe('system: S\nuser: U [[echo:prompt]]');
    const tokens = await client.chat.completions.create({ model: 'gpt-4o', messages: user('[[tokens:17]]') });
    expect(tokens.usage?.completion_tokens).toBe(17);
  });

  it('cuts at max_completion_tokens with finish_reason length, and at stop sequences', async () => {
    const capped = await client.chat.completions.create({ model: 'gpt-4o', messages: user('[[tokens:30]]'), max_completion_tokens: 5 });
    expect(capped.choices[0]?.finish_reason).toBe('length');
    expect(capped.usage?.completion_tokens).toBe(5);
    const stopped = await client.chat.completions.create({ model: 'gpt-4o', messages: user('[[say:one two three]]'), stop: [' three'] });
    expect(stopped.choices[0]?.message.content).toBe('one two');
    expect(stopped.choices[0]?.finish_reason).toBe('stop');
  });

  it('streams chat.completion.chunk events, one per token, then usage and [DONE]', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: user('[[say:streaming works fine]]'),
      stream: true,
      stream_options: { include_usage: true },
    });
    const { items, error } = await drain(stream);
    expect(error).toBeUndefined();
    expect(items.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    expect(items[0]?.choices[0]?.delta.role).toBe('assistant');
    const text = items.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('streaming works fine');
    const contentChunks = items.filter((c) => (c.choices[0]?.delta.content ?? '') !== '');
    expect(contentChunks).toHaveLength(countTokens('streaming works fine'));
    expect(items.find((c) => c.choices[0]?.finish_reason)?.choices[0]?.finish_reason).toBe('stop');
    const last = items[items.length - 1];
    expect(last?.choices).toEqual([]);
    expect(last?.usage?.completion_tokens).toBe(contentChunks.length);
  });

  it('paces answers by the organisation time to first token and tokens per second', async () => {
    const slow = openAiClient(vendor, KEYS.slow);
    let started = Date.now();
    const stream = await slow.chat.completions.create({ model: 'gpt-4o', messages: user('[[tokens:11]]'), stream: true });
    const arrivals: number[] = [];
    for await (const chunk of stream) if (chunk.choices[0]?.delta.content) arrivals.push(Date.now() - started);
    expect(arrivals).toHaveLength(11);
    expect(arrivals[0]).toBeGreaterThanOrEqual(95);
    // Ten intervals of 10 ms after the first token: the last cannot arrive before 100 + 100 ms. (Not the gap between
    // arrivals: a client whose event loop is busy reads several paced chunks at once, which compresses the gaps.)
    expect(arrivals[10]).toBeGreaterThanOrEqual(100 + 100 - 5);
    started = Date.now();
    await slow.chat.completions.create({ model: 'gpt-4o', messages: user('[[tokens:10]]') });
    expect(Date.now() - started).toBeGreaterThanOrEqual(100 + 100 - 5);
  });

  it('streams without usage unless asked', async () => {
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: user('hi'), stream: true });
    const { items } = await drain(stream);
    expect(items.some((c) => c.usage)).toBe(false);
  });

  it('calls tools with arguments valid for their schema, and answers in text after a tool result', async () => {
    const parameters: ObjectSchema = {
      type: 'object',
      properties: { city: { type: 'string' }, days: { type: 'integer', minimum: 1, maximum: 7 }, unit: { type: 'string', enum: ['c', 'f'] } },
      required: ['city', 'days', 'unit'],
      additionalProperties: false,
    };
    const tools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters } }];
    const completion = await client.chat.completions.create({ model: 'gpt-4o', messages: user('weather?'), tools });
    const call = completion.choices[0]?.message.tool_calls?.[0];
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
    expect(call?.type).toBe('function');
    if (call?.type !== 'function') throw new Error('expected a function call');
    expect(call.function.name).toBe('get_weather');
    expect(matchesSchema(parameters, JSON.parse(call.function.arguments))).toBe(true);

    const after = await client.chat.completions.create({
      model: 'gpt-4o',
      tools,
      messages: [...user('weather?'), { role: 'assistant', tool_calls: [call] }, { role: 'tool', tool_call_id: call.id, content: 'sunny' }],
    });
    expect(after.choices[0]?.finish_reason).toBe('stop');
    expect(after.choices[0]?.message.content).toEqual(expect.any(String));

    const none = await client.chat.completions.create({ model: 'gpt-4o', messages: user('weather?'), tools, tool_choice: 'none' });
    expect(none.choices[0]?.message.tool_calls).toBeUndefined();
  });

  it('streams tool call arguments', async () => {
    const tools: OpenAI.ChatCompletionTool[] = [
      { type: 'function', function: { name: 'a', parameters: { type: 'object', properties: { x: { type: 'string' } } } } },
      { type: 'function', function: { name: 'b', parameters: { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] } } },
    ];
    const stream = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: user('go'),
      tools,
      tool_choice: { type: 'function', function: { name: 'b' } },
      stream: true,
    });
    const { items } = await drain(stream);
    const deltas = items.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(deltas[0]?.function?.name).toBe('b');
    const args = JSON.parse(deltas.map((d) => d.function?.arguments ?? '').join('')) as { n: unknown };
    expect(typeof args.n).toBe('number');
    expect(items.find((c) => c.choices[0]?.finish_reason)?.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('answers response_format json_schema with JSON valid for the schema (SDK parse helper)', async () => {
    const Plan = z.object({
      title: z.string(),
      pages: z.array(z.object({ slug: z.string(), sections: z.array(z.enum(['hero', 'faq', 'pricing'])).min(2) })).min(3),
      published: z.boolean(),
      score: z.number().min(0).max(1),
      owner: z.string().nullable(),
    });
    const completion = await client.chat.completions.parse({
      model: 'gpt-4o',
      messages: user('plan a site'),
      response_format: zodResponseFormat(Plan, 'plan'),
    });
    const parsed = completion.choices[0]?.message.parsed;
    expect(Plan.safeParse(parsed).success).toBe(true);
    expect(parsed?.pages.length).toBeGreaterThanOrEqual(3);
  });

  it('answers json_object mode with a JSON object', async () => {
    const completion = await client.chat.completions.create({ model: 'gpt-4o', messages: user('json please'), response_format: { type: 'json_object' } });
    expect(JSON.parse(completion.choices[0]?.message.content ?? '')).toEqual({ answer: expect.any(String) });
  });

  it('serves embeddings as floats and as the SDK default base64', async () => {
    const decoded = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['alpha', 'beta'] });
    expect(decoded.data).toHaveLength(2);
    expect(decoded.data[0]?.embedding).toHaveLength(1536);
    const floats = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'alpha', encoding_format: 'float', dimensions: 8 });
    expect(floats.data[0]?.embedding).toHaveLength(8);
    const again = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['alpha'] });
    expect(again.data[0]?.embedding).toEqual(decoded.data[0]?.embedding);
    const norm = Math.sqrt((decoded.data[0]?.embedding ?? []).reduce((s, v) => s + v * v, 0));
    expect(norm).toBeCloseTo(1, 3);
    expect(decoded.usage.prompt_tokens).toBe(countTokens('alpha') + countTokens('beta'));
  });

  it('lists the organisation models and retrieves one', async () => {
    const models = [];
    for await (const model of client.models.list()) models.push(model.id);
    expect(models).toEqual(['gpt-4o', 'gpt-4o-mini', 'gpt-4.1', 'text-embedding-3-small', 'text-embedding-3-large']);
    expect((await client.models.retrieve('gpt-4.1')).id).toBe('gpt-4.1');
    expect(await rejectionOf(client.models.retrieve('gpt-9'))).toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('answers unknown keys with OpenAI 401 invalid_api_key and never records the key', async () => {
    const error = await rejectionOf(openAiClient(vendor, 'sk-not-a-real-key-1234').chat.completions.create({ model: 'gpt-4o', messages: user('hi') }));
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    const auth = error as InstanceType<typeof OpenAI.AuthenticationError>;
    expect(auth.status).toBe(401);
    expect(auth.code).toBe('invalid_api_key');
    expect(auth.message).toMatch(/sk-\*+1234/);
    expect(auth.requestID).toMatch(/^req_/);
    const records = vendor.requests();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ organisation: null, keyName: null, status: 401 });
    expect(JSON.stringify(records)).not.toContain('sk-not-a-real-key-1234');
  });

  it('rejects an Anthropic key on the OpenAI API', async () => {
    const error = await rejectionOf(openAiClient(vendor, KEYS.anthropic).chat.completions.create({ model: 'gpt-4o', messages: user('hi') }));
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it('answers unknown models with 404 model_not_found', async () => {
    const error = await rejectionOf(client.chat.completions.create({ model: 'gpt-5-turbo', messages: user('hi') }));
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect((error as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');
  });

  it('answers bad bodies with 400 naming the parameter', async () => {
    const error = await rejectionOf(client.chat.completions.create({ model: 'gpt-4o', messages: [] }));
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).message).toContain('messages');
    const raw = await fetch(`${vendor.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${KEYS.orgA}` }, body: '{not json' });
    expect(raw.status).toBe(400);
    expect(await raw.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
  });

  it('answers prompts longer than the model context with 400 context_length_exceeded', async () => {
    const error = await rejectionOf(openAiClient(vendor, KEYS.orgB).chat.completions.create({ model: 'gpt-tiny', messages: user('word '.repeat(50)) }));
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('context_length_exceeded');
  });

  it('records what reached it: organisation, key name, model, prompt hash and length', async () => {
    await openAiClient(vendor, KEYS.orgA2).chat.completions.create({ model: 'gpt-4o-mini', messages: user('a transparent background please') });
    const [record] = vendor.requests({ organisation: 'openai/org-a' });
    expect(record).toMatchObject({
      protocol: 'openai',
      path: '/v1/chat/completions',
      organisation: 'openai/org-a',
      keyName: 'org-a-2',
      model: 'gpt-4o-mini',
      stream: false,
      fault: null,
      status: 200,
      promptChars: 'user: a transparent background please'.length,
    });
    expect(record?.promptHash).toMatch(/^[0-9a-f]{64}$/);
    expect(vendor.requests({ contains: ['TRANSPARENT'] })).toHaveLength(1);
    expect(vendor.requests({ contains: ['opaque'] })).toHaveLength(0);
  });
});
