import { createStreamedText, isStreamDiverged, prefillOf } from '../../lib/vendors/stream-resume';

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

describe('a stream resumed by a continuation (an assistant prefill)', () => {
  it('streams everything the vendor adds, drops whitespace it repeats at the seam, and makes the whole answer', () => {
    const s = createStreamedText('alpha beta ', { continuation: true });
    expect(prefillOf('alpha beta ')).toBe('alpha beta');
    expect([' gamma', ' delta'].map((d) => s.feed(d))).toEqual(['gamma', ' delta']);
    expect(s.whole('ignored')).toBe('alpha beta gamma delta');
    expect(s.delivered(' delta')).toBe('alpha beta gamma');
  });

  it('drops a repeated seam that arrives as a delta of its own', () => {
    const s = createStreamedText('alpha ', { continuation: true });
    expect([' ', 'beta'].map((d) => s.feed(d))).toEqual(['', 'beta']);
    expect(s.whole('')).toBe('alpha beta');
  });

  it('keeps a seam without whitespace as it is', () => {
    const s = createStreamedText('alpha', { continuation: true });
    expect(s.feed(' beta')).toBe(' beta');
    expect(s.whole('')).toBe('alpha beta');
  });
});
