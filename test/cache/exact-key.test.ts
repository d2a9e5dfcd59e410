import fc from 'fast-check';
import { canonicalJson, encodeTenantForKey, exactCacheKey, type ExactCacheKeyInput } from '../../lib/cache';
import { maskMessages } from '../../lib/pii';
import type { Message } from '../../schemas/llm';

const kvKey = /^[-/_=.a-zA-Z0-9]+$/;

const base: ExactCacheKeyInput = {
  tenant: 'acme',
  route: 'chat-default',
  model: 'gpt-4o-mini',
  promptVariant: 'openai-v2',
  messages: [
    { role: 'system', content: 'You write button texts.' },
    { role: 'user', content: 'A button for the newsletter' },
  ],
  params: { temperature: 0.2, maxTokens: 50 },
  tools: [{ name: 'lookup', description: 'find a user', parameters: { type: 'object', properties: { id: { type: 'string' } } } }],
  toolChoice: 'auto',
  output: { name: 'answer', schema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] } },
};

/** Every keyed field, changed in one small way. */
const changes: Array<[string, (input: ExactCacheKeyInput) => ExactCacheKeyInput]> = [
  ['tenant', (i) => ({ ...i, tenant: 'acme2' })],
  ['route', (i) => ({ ...i, route: 'site-planner' })],
  ['model', (i) => ({ ...i, model: 'gpt-4o' })],
  ['promptVariant', (i) => ({ ...i, promptVariant: 'openai-v3' })],
  ['a message text', (i) => ({ ...i, messages: [i.messages[0] as Message, { role: 'user', content: 'A button for the newsletter!' }] })],
  ['a message role', (i) => ({ ...i, messages: [i.messages[0] as Message, { role: 'assistant', content: 'A button for the newsletter' }] })],
  ['message order', (i) => ({ ...i, messages: [...i.messages].reverse() })],
  ['an extra message', (i) => ({ ...i, messages: [...i.messages, { role: 'user', content: '' }] })],
  ['params', (i) => ({ ...i, params: { ...i.params, temperature: 0.3 } })],
  ['tools', (i) => ({ ...i, tools: [] })],
  ['a tool schema', (i) => ({ ...i, tools: i.tools?.map((t) => ({ ...t, parameters: { ...t.parameters, required: ['id'] } })) })],
  ['toolChoice', (i) => ({ ...i, toolChoice: 'required' })],
  ['output schema', (i) => ({ ...i, output: { name: 'answer', schema: { type: 'object' } } })],
  ['no output', (i) => ({ ...i, output: undefined })],
];

describe('exactCacheKey', () => {
  it('is a NATS KV key prefixed by the tenant', () => {
    const key = exactCacheKey(base);
    expect(key).toMatch(kvKey);
    expect(key).toMatch(/^acme\.[0-9a-f]{64}$/);
  });

  it.each(changes)('changes when %s changes', (_field, change) => {
    expect(exactCacheKey(change(base))).not.toBe(exactCacheKey(base));
  });

  it('treats absent and empty optional fields alike', () => {
    const bare: ExactCacheKeyInput = { ...base, params: undefined, tools: undefined, toolChoice: undefined, output: undefined };
    expect(exactCacheKey(bare)).toBe(exactCacheKey({ ...bare, params: {}, tools: [] }));
  });

  it('ignores the placeholder nonce: the vendor saw the same masked prompt', () => {
    const messages: Message[] = [{ role: 'user', content: 'Write to jane@example.com' }];
    const first = maskMessages(messages, {}, { nonce: 'first' });
    const second = maskMessages([{ role: 'user', content: 'Write to bob@example.com' }], {}, { nonce: 'second' });
    const keyOf = (masked: typeof first) => exactCacheKey({ ...base, messages: masked.messages, piiNonce: masked.nonce });
    expect(keyOf(first)).toBe(keyOf(second));
    const literal = exactCacheKey({ ...base, messages: [{ role: 'user', content: 'Write to [[EMAIL_1_*]]' }], piiNonce: 'third' });
    expect(literal).not.toBe(keyOf(first));
  });
});

describe('exactCacheKey laws', () => {
  const json = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.string({ maxLength: 8 }),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie('value'), { maxLength: 3 }),
      fc.dictionary(fc.string({ maxLength: 6 }), tie('value'), { maxKeys: 4 }),
    ),
  })).value;
  const message = fc.record({ role: fc.constantFrom('system', 'user', 'assistant'), content: fc.string({ maxLength: 40 }) }) as fc.Arbitrary<Message>;
  const input: fc.Arbitrary<ExactCacheKeyInput> = fc.record({
    tenant: fc.stringMatching(/^[A-Za-z0-9._:@-]{1,20}$/),
    route: fc.string({ minLength: 1, maxLength: 20 }),
    model: fc.string({ minLength: 1, maxLength: 20 }),
    promptVariant: fc.string({ maxLength: 20 }),
    messages: fc.array(message, { minLength: 1, maxLength: 4 }),
    params: fc.record({ temperature: fc.double({ min: 0, max: 2, noNaN: true }), maxTokens: fc.integer({ min: 1, max: 4096 }) }, { requiredKeys: [] }),
    tools: fc.array(fc.record({ name: fc.stringMatching(/^[a-z_]{1,10}$/), parameters: fc.dictionary(fc.string({ maxLength: 6 }), json, { maxKeys: 3 }) }), {
      maxLength: 2,
    }),
    toolChoice: fc.constantFrom(undefined, 'auto', 'none', 'required'),
    output: fc.option(fc.record({ name: fc.stringMatching(/^[a-z]{1,10}$/), schema: fc.dictionary(fc.string({ maxLength: 6 }), json, { maxKeys: 3 }) }), {
      nil: undefined,
    }),
  });
  const fieldNames = ['tenant', 'route', 'model', 'promptVariant', 'messages', 'params', 'tools', 'toolChoice', 'output'] as const;

  it('changes when any keyed field changes', () => {
    fc.assert(
      fc.property(input, input, fc.constantFrom(...fieldNames), (a, b, field) => {
        const changed = { ...a, [field]: b[field] };
        const normalise = (i: ExactCacheKeyInput, f: (typeof fieldNames)[number]) =>
          canonicalJson(f === 'params' ? (i.params ?? {}) : f === 'tools' ? (i.tools ?? []) : f === 'toolChoice' || f === 'output' ? (i[f] ?? null) : i[f]);
        fc.pre(normalise(a, field) !== normalise(changed, field));
        expect(exactCacheKey(changed)).not.toBe(exactCacheKey(a));
      }),
      { numRuns: 300 },
    );
  });

  it('does not change when object keys are reordered', () => {
    const reorder = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(reorder);
      if (value === null || typeof value !== 'object') return value;
      return Object.fromEntries(
        Object.entries(value)
          .reverse()
          .map(([k, v]) => [k, reorder(v)]),
      );
    };
    fc.assert(
      fc.property(input, (a) => {
        expect(exactCacheKey(reorder(a) as ExactCacheKeyInput)).toBe(exactCacheKey(a));
      }),
      { numRuns: 200 },
    );
  });

  it('always yields a valid KV key whose first token identifies the tenant', () => {
    fc.assert(
      fc.property(input, fc.string({ maxLength: 20 }), (a, tenant) => {
        const key = exactCacheKey({ ...a, tenant });
        expect(key).toMatch(kvKey);
        expect(key.split('.')).toHaveLength(2);
        expect(key.split('.')[0]).toBe(encodeTenantForKey(tenant));
      }),
      { numRuns: 200 },
    );
  });
});

describe('encodeTenantForKey', () => {
  it.each([
    ['acme', 'acme'],
    ['team_a-1', 'team_a-1'],
    ['a.b', 'a=2Eb'],
    ['a=2Eb', 'a=3D2Eb'],
    ['user@corp', 'user=40corp'],
    ['ü', '=C3=BC'],
    ['', '='],
    ['\ud800', '=ED=A0=80'],
  ])('%j → %j', (tenant, encoded) => {
    expect(encodeTenantForKey(tenant)).toBe(encoded);
  });

  it('is injective', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 12 }), (a, b) => {
        fc.pre(a !== b);
        expect(encodeTenantForKey(a)).not.toBe(encodeTenantForKey(b));
      }),
      { numRuns: 300 },
    );
  });
});

describe('canonicalJson', () => {
  it.each<[unknown, string]>([
    [{ b: 1, a: [2, { d: 3, c: undefined }] }, '{"a":[2,{"d":3}],"b":1}'],
    [[undefined, null], '[null,null]'],
    ['x', '"x"'],
  ])('%j → %s', (value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });
});
