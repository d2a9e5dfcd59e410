import fc from 'fast-check';
import {
  cosineSimilarity,
  exactCacheKey,
  isSemanticCacheEligible,
  localEmbedding,
  pickSemanticHit,
  semanticCacheScope,
  type SemanticScopeInput,
} from '../../lib/cache';
import type { Message } from '../../schemas/llm';

const similarity = (a: string, b: string) => cosineSimilarity(localEmbedding(a), localEmbedding(b));

describe('localEmbedding', () => {
  it.each([
    ['case, punctuation and spacing', 'How do I reset my password?', 'how do i reset my  password'],
    ['a filler word', 'How do I reset my password?', 'How do I reset my password, please?'],
    ['a different function word', 'How do I reset my password?', 'How can I reset my password?'],
    ['a contraction', 'What is the capital of France?', "What's the capital of France?"],
    ['one determiner', 'Write a button label for subscribing to the newsletter', 'Write a button label for subscribing to our newsletter'],
    [
      'a hyphen and an exclamation',
      'Write a short product description for a stainless steel water bottle',
      'write a short product description for a stainless-steel water bottle!',
    ],
    [
      'a typo in a longer prompt',
      'Write a short product description for a stainless steel water bottle that keeps drinks cold',
      'Write a short product description for a stainles steel water bottle that keeps drinks cold',
    ],
  ])('scores a paraphrase with small edits (%s) at least 0.95', (_edit, a, b) => {
    expect(similarity(a, b)).toBeGreaterThanOrEqual(0.95);
  });

  it.each([
    ['What is the capital of France?', 'How do I reset my password?'],
    ['Write a haiku about autumn leaves', 'Explain the difference between TCP and UDP'],
    ['Write a button label for subscribing to the newsletter', 'Write a heading for the pricing page'],
  ])('scores unrelated questions well below: %j vs %j', (a, b) => {
    expect(similarity(a, b)).toBeLessThan(0.5);
  });

  it.each([
    ['Summarise the refund policy in 2 sentences', 'Summarise the refund policy in 5 sentences'],
    ['What is the capital of France?', 'What is the capital of Germany?'],
  ])('keeps a changed number or subject under the default threshold: %j vs %j', (a, b) => {
    expect(similarity(a, b)).toBeLessThan(0.95);
  });

  it('is a deterministic unit vector of the requested size', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 200 }).filter((s) => /[\p{L}\p{N}]/u.test(s)),
        fc.constantFrom(64, 256, 384),
        (text, dims) => {
          const vector = localEmbedding(text, dims);
          expect(vector).toHaveLength(dims);
          expect(vector).toEqual(localEmbedding(text, dims));
          expect(Math.hypot(...vector)).toBeCloseTo(1, 9);
          expect(cosineSimilarity(vector, vector)).toBeCloseTo(1, 9);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('gives text without letters or digits the zero vector, which matches nothing', () => {
    expect(localEmbedding('?!  …').every((x) => x === 0)).toBe(true);
    expect(cosineSimilarity(localEmbedding('?!'), localEmbedding('hello'))).toBe(0);
  });

  it('rejects vectors of different lengths', () => {
    expect(() => cosineSimilarity([1, 0], [1, 0, 0])).toThrow(RangeError);
  });
});

describe('isSemanticCacheEligible', () => {
  const on = { semantic: { enabled: true } };
  it.each<[string, Message[], object, boolean]>([
    ['one user message', [{ role: 'user', content: 'What is a breaker?' }], on, true],
    [
      'system + user',
      [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'What is a breaker?' },
      ],
      on,
      true,
    ],
    ['the route did not opt in', [{ role: 'user', content: 'What is a breaker?' }], {}, false],
    [
      'a conversation',
      [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello' },
        { role: 'user', content: 'What is a breaker?' },
      ],
      on,
      false,
    ],
    [
      'two user messages',
      [
        { role: 'user', content: 'Hi' },
        { role: 'user', content: 'What?' },
      ],
      on,
      false,
    ],
    [
      'a tool result',
      [
        { role: 'user', content: 'Hi' },
        { role: 'tool', toolCallId: 't', content: '{}' },
      ],
      on,
      false,
    ],
    ['system only', [{ role: 'system', content: 'Be brief.' }], on, false],
    ['an empty prompt', [{ role: 'user', content: '   ' }], on, false],
    ['a prompt over maxPromptChars', [{ role: 'user', content: 'x'.repeat(501) }], on, false],
    ['a prompt at maxPromptChars', [{ role: 'user', content: 'x'.repeat(500) }], on, true],
    ['a raised limit', [{ role: 'user', content: 'x'.repeat(501) }], { semantic: { enabled: true, maxPromptChars: 1000 } }, true],
  ])('%s → %s', (_name, messages, config, eligible) => {
    expect(isSemanticCacheEligible(messages, config)).toBe(eligible);
  });
});

describe('semanticCacheScope', () => {
  const base: SemanticScopeInput = { tenant: 'acme', route: 'faq', model: 'gpt-4o-mini', promptVariant: 'v1', systemPrompt: 'Answer briefly.' };

  it.each<[string, Partial<SemanticScopeInput>]>([
    ['tenant', { tenant: 'globex' }],
    ['system prompt', { systemPrompt: 'Answer at length.' }],
    ['route', { route: 'support' }],
    ['model', { model: 'claude' }],
    ['prompt variant', { promptVariant: 'v2' }],
    ['params', { params: { temperature: 1 } }],
    ['output schema', { output: { name: 'x', schema: { type: 'object' } } }],
  ])('differs when the %s differs', (_field, change) => {
    expect(semanticCacheScope({ ...base, ...change })).not.toBe(semanticCacheScope(base));
  });

  it('is a tenant-prefixed KV token and never equals an exact key', () => {
    const scope = semanticCacheScope(base);
    expect(scope).toMatch(/^acme\.[0-9a-f]{64}$/);
    const exact = exactCacheKey({ ...base, messages: [{ role: 'system', content: base.systemPrompt }] });
    expect(scope).not.toBe(exact);
  });
});

describe('pickSemanticHit', () => {
  const query = localEmbedding('How do I reset my password?');
  const candidates = [
    { key: 'unrelated', embedding: localEmbedding('What is the capital of France?') },
    { key: 'close', embedding: localEmbedding('How can I reset my password?') },
    { key: 'same', embedding: localEmbedding('how do I reset my password') },
    { key: 'other-dims', embedding: localEmbedding('How do I reset my password?', 64) },
  ];

  it('returns the most similar candidate at or above the threshold', () => {
    expect(pickSemanticHit(query, candidates, 0.95)).toEqual({ key: 'same', score: expect.closeTo(1, 9) });
  });

  it('returns null when nothing reaches the threshold', () => {
    expect(pickSemanticHit(query, candidates.slice(0, 1), 0.95)).toBeNull();
    expect(pickSemanticHit(query, [], 0.95)).toBeNull();
  });
});
