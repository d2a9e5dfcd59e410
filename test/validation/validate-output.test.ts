import fc from 'fast-check';
import { z } from 'zod';
import { isOutputSchemaError, isUnknownValidatorError, resolveBounds, validateOutput } from '../../lib/validation';
import { defaultBoundsByKind, type OutputValidationInput, ValidationResult } from '../../schemas/validation';

const rulesOf = (result: ValidationResult) => (result.ok ? [] : result.failures.map((f) => f.rule));

describe('validateOutput: length by content kind', () => {
  it.each<[string, string, OutputValidationInput, string[]]>([
    ['a short button', 'Buy now', { contentKind: 'button' }, []],
    [
      'a button that came back as a paragraph',
      'Click here to subscribe to our weekly newsletter about gardening tips and tricks',
      { contentKind: 'button' },
      ['max_chars', 'max_words'],
    ],
    ['a 5-word button', 'Get your free trial now', { contentKind: 'button' }, ['max_words']],
    ['a heading of 12 words', 'one two three four five six seven eight nine ten eleven twelve', { contentKind: 'heading' }, []],
    ['a heading of 13 words', 'one two three four five six seven eight nine ten eleven twelve thirteen', { contentKind: 'heading' }, ['max_words']],
    ['a long paragraph', 'word '.repeat(151), { contentKind: 'paragraph', bounds: { maxChars: 5_000 } }, ['max_words']],
    ['free text has no bounds', 'word '.repeat(5_000), { contentKind: 'free' }, []],
    ['explicit bounds override the kind', 'Get your free trial now', { contentKind: 'button', bounds: { maxWords: 6 } }, []],
    ['explicit minimum', 'Hi', { bounds: { minWords: 3, minChars: 10 } }, ['min_chars', 'min_words']],
    ['a Chinese button (2 words)', '立即购买', { contentKind: 'button' }, []],
    ['a Japanese button (3 words)', '詳細を見る', { contentKind: 'button' }, []],
    ['a Chinese sentence as a button', '请点击这里立即购买我们的高级会员服务', { contentKind: 'button' }, ['max_words']],
  ])('%s', (_name, text, config, expected) => {
    expect(rulesOf(validateOutput(text, config))).toEqual(expected);
  });

  it('reports the measured count and the limit', () => {
    const result = validateOutput('one two three four five six', { contentKind: 'button' });
    expect(result).toEqual({ ok: false, failures: [expect.objectContaining({ rule: 'max_words', actual: 6, limit: 4 })] });
  });

  it('lays explicit bounds over the kind defaults field by field', () => {
    expect(resolveBounds({ contentKind: 'button', bounds: { maxWords: 6 } })).toEqual({ ...defaultBoundsByKind.button, maxWords: 6 });
    expect(resolveBounds({})).toEqual({});
  });
});

describe('validateOutput: empty answers', () => {
  it.each([[''], ['   '], ['\n\t']])('rejects %j by default and stops there', (text) => {
    expect(validateOutput(text, { json: true, bounds: { minWords: 2 } })).toEqual({
      ok: false,
      failures: [{ rule: 'non_empty', message: 'the answer is empty' }],
    });
  });

  it('accepts an empty answer when nonEmpty is off', () => {
    expect(validateOutput('', { nonEmpty: false })).toEqual({ ok: true });
  });
});

describe('validateOutput: JSON', () => {
  const schema = z.toJSONSchema(z.object({ title: z.string().min(2), tags: z.array(z.enum(['a', 'b'])).max(2), count: z.int().min(0) }));

  it.each<[string, string, boolean, string[]]>([
    ['valid JSON without a schema', '{"x":1}', false, []],
    ['prose instead of JSON', 'Sure! Here it is', false, ['json_parse']],
    ['a fenced JSON block', '```json\n{"x":1}\n```', false, ['json_parse']],
    ['JSON matching the schema', '{"title":"Hi","tags":["a"],"count":3}', true, []],
    ['JSON with wrong types', '{"title":"H","tags":["c"],"count":-1}', true, ['json_schema', 'json_schema', 'json_schema']],
    ['JSON with an extra key', '{"title":"Hi","tags":[],"count":0,"extra":true}', true, ['json_schema']],
  ])('%s', (_name, text, withSchema, expected) => {
    expect(rulesOf(validateOutput(text, { json: true }, withSchema ? { schema } : {}))).toEqual(expected);
  });

  it('names the path of a schema failure', () => {
    const result = validateOutput('{"title":"Hi","tags":["c"],"count":1}', {}, { schema });
    expect(result).toEqual({ ok: false, failures: [expect.objectContaining({ rule: 'json_schema', path: '$.tags[0]' })] });
  });

  it('says when JSON came wrapped in a code fence', () => {
    const result = validateOutput('```json\n{}\n```', { json: true });
    expect(result.ok ? '' : result.failures[0]?.message).toContain('code fence');
  });

  it('checks the schema even when json is not set: structured output is always JSON', () => {
    expect(rulesOf(validateOutput('not json', {}, { schema }))).toEqual(['json_parse']);
  });

  it('throws a named error for a schema it cannot check', () => {
    let caught: unknown;
    try {
      validateOutput('{}', {}, { schema: { type: 'no-such-type' } });
    } catch (error) {
      caught = error;
    }
    expect(isOutputSchemaError(caught)).toBe(true);
  });
});

describe('validateOutput: custom validators', () => {
  const customValidators = { noExclamation: (text: string) => (text.includes('!') ? 'no exclamation marks' : null) };

  it.each([
    ['Buy now', []],
    ['Buy now!', ['custom']],
  ])('%j', (text, expected) => {
    expect(rulesOf(validateOutput(text, { validator: 'noExclamation' }, { customValidators }))).toEqual(expected);
  });

  it('throws for a validator nobody registered, also for inherited names', () => {
    for (const name of ['missing', 'toString']) {
      let caught: unknown;
      try {
        validateOutput('x', { validator: name }, { customValidators });
      } catch (error) {
        caught = error;
      }
      expect(isUnknownValidatorError(caught)).toBe(true);
    }
  });
});

describe('validateOutput: laws', () => {
  it('returns JSON-serialisable results that parse as ValidationResult', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 200 }),
        fc.constantFrom('button', 'heading', 'paragraph', 'title', 'free'),
        fc.boolean(),
        (text, contentKind, json) => {
          const result = validateOutput(text, { contentKind, json });
          expect(ValidationResult.parse(JSON.parse(JSON.stringify(result)))).toEqual(result);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('accepts every text within a maxWords bound and rejects every text beyond it', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a-z]{1,8}$/), { minLength: 1, maxLength: 20 }), fc.integer({ min: 1, max: 20 }), (words, maxWords) => {
        const result = validateOutput(words.join(' '), { bounds: { maxWords } });
        expect(result.ok).toBe(words.length <= maxWords);
      }),
      { numRuns: 200 },
    );
  });
});
