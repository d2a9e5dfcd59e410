/**
 * `GET /v1/models` and the parameter policy of chat completions, through the
 * official `openai` client on the real stack: models are the routes open to
 * the key's tenant; an OpenAI parameter is honoured, accepted at its default,
 * or rejected with a 400 naming it — the vendor never sees a request whose
 * parameters were dropped.
 */
import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import { apiError, startGateway, tenantKeys, type GatewayUnderTest } from '../harness/gateway';
import { hashApiKey } from '../../services/gateway/tenants';

const marker = (name: string) => `${name}-m${randomUUID().slice(0, 8)}`;

describe('gateway: models and parameters', () => {
  let t: GatewayUnderTest;

  beforeAll(async () => {
    t = await startGateway({
      gateway: {
        tenants: [
          { id: 'acme', keys: [{ name: 'acme-1', sha256: hashApiKey(tenantKeys.acme) }] },
          { id: 'globex', keys: [{ name: 'globex-1', sha256: hashApiKey(tenantKeys.globex) }], routes: ['solo-only'] },
        ],
      },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('lists every route for an unrestricted tenant, with its entries and providers', async () => {
    const models = [];
    for await (const model of t.openai().models.list()) models.push(model);
    expect(models.map((m) => m.id)).toEqual(Object.keys(t.config.routes).sort());
    const chat = models.find((m) => m.id === 'chat-default') as unknown as {
      object: string;
      owned_by: string;
      switchboard: { entries: unknown[]; providers: string[] };
    };
    expect(chat.object).toBe('model');
    expect(chat.owned_by).toBe('switchboard');
    expect(chat.switchboard.entries).toEqual([
      { provider: 'openai', model: 'gpt-4o-mini' },
      { provider: 'anthropic', model: 'claude-haiku-4-5' },
    ]);
    expect(chat.switchboard.providers).toEqual(['openai', 'anthropic']);
  });

  it('respects the tenant allow-list, and a closed route is as unknown as a missing one', async () => {
    const globex = t.openai(tenantKeys.globex);
    const ids = [];
    for await (const model of globex.models.list()) ids.push(model.id);
    expect(ids).toEqual(['solo-only']);
    expect((await globex.models.retrieve('solo-only')).id).toBe('solo-only');
    const closed = await apiError(globex.models.retrieve('chat-default'));
    expect(closed).toBeInstanceOf(OpenAI.NotFoundError);
    expect(closed.code).toBe('model_not_found');
    const missing = await apiError(t.openai().models.retrieve('no-such-route'));
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    // Calling a closed route is the same 404 as calling a missing one, and names only the routes open to the key.
    const m = marker('closed');
    const calls = [
      apiError(globex.chat.completions.create({ model: 'chat-default', messages: [{ role: 'user', content: m }] })),
      apiError(globex.chat.completions.create({ model: 'no-such-route', messages: [{ role: 'user', content: m }] })),
      apiError(globex.responses.create({ model: 'chat-default', input: m })),
    ];
    for (const error of await Promise.all(calls)) {
      expect(error).toBeInstanceOf(OpenAI.NotFoundError);
      expect(error.code).toBe('model_not_found');
      expect(error.message).toMatch(/routes: solo-only$/);
    }
    expect(t.vendor.requests({ contains: [m] })).toHaveLength(0);
    expect(await apiError(t.openai('sk-wrong').models.list())).toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it.each([
    [{ n: 2 }, 'n', /one call returns one answer/],
    // chat-default may fall back to Anthropic, which returns no logprobs.
    [{ logprobs: true }, 'logprobs', /"anthropic", which returns no logprobs/],
    [{ logprobs: true, top_logprobs: 3 }, 'logprobs', /returns no logprobs/],
    [{ frequency_penalty: 0.5 }, 'frequency_penalty', /penalties/],
    [{ seed: 7 }, 'seed', /seeds/],
    [{ parallel_tool_calls: false }, 'parallel_tool_calls', /parallel tool calls/],
    [{ functions: [{ name: 'f', parameters: {} }] }, 'functions', /use tools/],
    [{ made_up_param: 1 }, 'made_up_param', /does not know it/],
  ])('rejects %j with a 400 naming %s, and nothing reaches the vendor', async (extra, param, why) => {
    const m = marker('param');
    const body = {
      model: 'chat-default',
      messages: [{ role: 'user' as const, content: `hi ${m}` }],
      ...extra,
    } as OpenAI.ChatCompletionCreateParamsNonStreaming;
    const error = await apiError(t.openai().chat.completions.create(body));
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.param).toBe(param);
    expect(error.code).toBe('unsupported_parameter');
    expect(error.message).toMatch(why);
    expect(t.vendor.requests({ contains: [m] })).toHaveLength(0);
  });

  it('passes logprobs through on a route whose vendors all return them: one entry per token of the answer, with its alternatives', async () => {
    const m = marker('logprobs');
    const completion = await t.openai().chat.completions.create({
      model: 'solo-only',
      messages: [{ role: 'user', content: `Say ${m} [[say:one two three]]` }],
      logprobs: true,
      top_logprobs: 3,
    });
    const content = completion.choices[0]!.logprobs!.content!;
    expect(content.map((c) => c.token).join('')).toBe('one two three');
    for (const token of content) {
      expect(token.logprob).toBeLessThan(0);
      expect(token.top_logprobs).toHaveLength(3);
      expect(token.top_logprobs[0]!.token).toBe(token.token);
    }
    const stream = await apiError(
      t.openai().chat.completions.create({ model: 'solo-only', messages: [{ role: 'user', content: `hi ${m}-stream` }], logprobs: true, stream: true }),
    );
    expect(stream.param).toBe('logprobs');
    expect(t.vendor.requests({ contains: [`${m}-stream`] })).toHaveLength(0);
    const alone = await apiError(
      t.openai().chat.completions.create({ model: 'solo-only', messages: [{ role: 'user', content: `hi ${m}-alone` }], top_logprobs: 2 }),
    );
    expect(alone.param).toBe('top_logprobs');
  });

  it('accepts those parameters at their defaults and answers', async () => {
    const m = marker('defaults');
    const completion = await t.openai().chat.completions.create({
      model: 'chat-default',
      messages: [{ role: 'user', content: `Say hi ${m} [[say:hi]]` }],
      n: 1,
      logprobs: false,
      frequency_penalty: 0,
      presence_penalty: 0,
      parallel_tool_calls: true,
      store: false,
    });
    expect(completion.choices).toHaveLength(1);
    expect(completion.choices[0]!.message.content).toBe('hi');
    expect(t.vendor.requests({ contains: [m] })).toHaveLength(1);
  });
});
