import { generateAnswer, parseDirectives, truncateJson, type AnswerRequest } from '../../services/fake-vendor/answers';
import { countTokens, tokenize } from '../../services/fake-vendor/tokenizer';

const base: AnswerRequest = { seed: 1, model: 'gpt-4o', promptText: 'user: hello', lastUserText: 'hello', minTokens: 8, maxTokens: 40, spoiling: 'none' };

describe('tokenizer', () => {
  it.each(['', 'a', 'hello world', '  leading and trailing  ', 'supercalifragilistic', 'tabs\tand\nnewlines', 'ünïcödé — ok'])(
    'splits %j losslessly',
    (text) => {
      expect(tokenize(text).join('')).toBe(text);
      expect(countTokens(text)).toBe(tokenize(text).length);
    },
  );

  it('re-tokenizes any prefix of whole tokens the same way', () => {
    const tokens = tokenize('The vendor answers with a steady stream of plain words.');
    for (let k = 0; k <= tokens.length; k++) expect(tokenize(tokens.slice(0, k).join(''))).toEqual(tokens.slice(0, k));
  });
});

describe('generateAnswer', () => {
  it('is a function of seed, model and prompt', () => {
    const answer = generateAnswer(base);
    expect(generateAnswer(base)).toEqual(answer);
    expect(generateAnswer({ ...base, seed: 2 }).text).not.toBe(answer.text);
    expect(generateAnswer({ ...base, model: 'gpt-4.1' }).text).not.toBe(answer.text);
    expect(generateAnswer({ ...base, promptText: 'user: bye' }).text).not.toBe(answer.text);
  });

  it('keeps token counts consistent with the text, within the configured range', () => {
    for (let seed = 0; seed < 200; seed++) {
      const answer = generateAnswer({ ...base, seed });
      expect(answer.tokens.join('')).toBe(answer.text);
      expect(countTokens(answer.text)).toBe(answer.tokens.length);
      expect(answer.tokens.length).toBeGreaterThanOrEqual(8);
      expect(answer.tokens.length).toBeLessThanOrEqual(40 + 3);
      expect(answer.finish).toBe('end');
    }
  });

  it('caps at max tokens with finish length, and cuts at the earliest stop sequence', () => {
    const capped = generateAnswer({ ...base, lastUserText: '[[tokens:30]]', cap: 7 });
    expect(capped).toMatchObject({ finish: 'length' });
    expect(capped.tokens).toHaveLength(7);
    const stopped = generateAnswer({ ...base, lastUserText: '[[say:a b c d]]', stop: [' d', ' c'] });
    expect(stopped).toMatchObject({ text: 'a b', finish: 'stop_sequence', stopSequence: ' c' });
  });

  it('honours directives', () => {
    expect(parseDirectives('x [[say:hi there]] y [[tool:lookup]] [[tokens:5]] [[echo:prompt]]')).toEqual({
      say: 'hi there',
      tool: 'lookup',
      tokens: 5,
      echo: 'prompt',
    });
    expect(generateAnswer({ ...base, lastUserText: 'mask <PII_1> [[echo]]' }).text).toBe('mask <PII_1>');
    expect(generateAnswer({ ...base, lastUserText: '[[tokens:12]]' }).tokens).toHaveLength(12);
    expect(generateAnswer({ ...base, lastUserText: '[[say:]]' }).text).toBe('');
  });

  it('answers tool calls with schema-shaped JSON, and [[say:]] overrides them', () => {
    const toolCall = { name: 'f', schema: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] } };
    const call = generateAnswer({ ...base, toolCall });
    expect(call.finish).toBe('tool_call');
    expect(JSON.parse(call.text)).toEqual(call.toolCall?.input);
    expect(generateAnswer({ ...base, toolCall, lastUserText: '[[say:plain]]' })).toMatchObject({ text: 'plain', toolCall: null });
    const violated = generateAnswer({ ...base, toolCall, spoiling: 'violate' });
    expect(violated.toolCall?.input).toEqual({});
    expect(() => JSON.parse(generateAnswer({ ...base, toolCall, spoiling: 'truncate' }).text)).toThrow();
  });

  it('truncateJson never parses', () => {
    for (const json of ['{}', '[]', '1', '12', '"x"', 'true', '{"a":[1,2,3],"b":"text"}']) expect(() => JSON.parse(truncateJson(json))).toThrow();
  });
});
