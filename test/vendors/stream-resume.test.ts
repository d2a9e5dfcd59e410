import { createStreamedText, isStreamDiverged } from '../../lib/vendors/stream-resume';

describe('a stream that resumes another (lib/vendors/stream-resume.ts)', () => {
  const feedAll = (resumeText: string, deltas: string[]) => {
    const s = createStreamedText(resumeText);
    const out = deltas.map((d) => s.feed(d));
    s.end();
    return out;
  };

  it.each([
    ['streams everything without a resume', '', ['ab', 'cd'], ['ab', 'cd']],
    ['stays quiet inside the text sent, then streams what follows', 'abc', ['a', 'bc', 'de'], ['', '', 'de']],
    ['splits a delta that crosses the end of the text sent', 'abc', ['ab', 'cde', 'f'], ['', 'de', 'f']],
    ['accepts an answer that ends exactly where the text sent ends', 'abc', ['abc'], ['']],
  ])('%s', (_name, resumeText, deltas, expected) => {
    expect(feedAll(resumeText, deltas)).toEqual(expected);
  });

  it.each([
    ['differs inside the text sent', 'abc', ['ax']],
    ['differs in a delta that crosses the end', 'abc', ['abX', 'd']],
    ['ends before the text sent', 'abcdef', ['abc']],
  ])('stops at the first difference when the answer %s', (_name, resumeText, deltas) => {
    expect(() => feedAll(resumeText, deltas)).toThrow(expect.objectContaining({ name: 'StreamDiverged' }));
    try {
      feedAll(resumeText, deltas);
    } catch (error) {
      expect(isStreamDiverged(error)).toBe(true);
    }
  });

  it('tells what the caller has: the text sent, then what followed it, less what is held back', () => {
    const s = createStreamedText('abc');
    expect(s.delivered('')).toBe('abc');
    s.feed('abcdef');
    expect(s.delivered('ef')).toBe('abcd');
    expect(s.delivered('def')).toBe('abc');
    expect(createStreamedText().delivered('')).toBe('');
  });
});
