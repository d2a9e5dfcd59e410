import fc from 'fast-check';
import { countChars, countWords } from '../../lib/validation';

describe('countWords', () => {
  it.each<[string, number]>([
    ['', 0],
    ['   ', 0],
    ['Buy now', 2],
    ['  Buy   now \n', 2],
    ['Buy now →', 2],
    ['e-mail me — now', 3],
    ["don't stop", 2],
    ['Version 3.5 is out', 4],
    ['🚀 Launch', 1],
    ['立即购买', 2],
    ['购买', 1],
    ['立即购买吧', 3],
    ['詳細を見る', 3],
    ['Click购买', 2],
    ['iPhone 15 の新機能', 4],
    ['Привет мир', 2],
    ['안녕하세요 세계', 2],
  ])('%j has %i words', (text, words) => {
    expect(countWords(text)).toBe(words);
  });

  it('adds up over space-joined Latin words', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[A-Za-z0-9'-]{0,10}[A-Za-z0-9]$/), { maxLength: 30 }), (words) => {
        expect(countWords(words.join(' '))).toBe(words.length);
      }),
      { numRuns: 200 },
    );
  });
});

describe('countChars', () => {
  it.each<[string, number]>([
    ['', 0],
    ['  Buy now  ', 7],
    ['🚀', 1],
    ['立即购买', 4],
    ['naïve', 5],
  ])('%j has %i characters', (text, chars) => {
    expect(countChars(text)).toBe(chars);
  });
});
