import fc from 'fast-check';
import { createStreamRestorer, maskPii, restorePii } from '../../lib/pii';
import type { PiiEntity } from '../../schemas/validation';
import { chunksOf, nonce, textWithPii } from './pii-arbitraries';

function streamRestore(chunks: string[], entities: PiiEntity[]): { out: string; pushes: string[] } {
  const restorer = createStreamRestorer(entities);
  const pushes = chunks.map((chunk) => restorer.push(chunk));
  return { out: pushes.join('') + restorer.flush(), pushes };
}

const entities: PiiEntity[] = [
  { kind: 'email', placeholder: '[[EMAIL_1_k3f9x2ab]]', value: 'jane@example.com' },
  { kind: 'phone', placeholder: '[[PHONE_2_k3f9x2ab]]', value: '+1 555 123 4567' },
];

describe('restorePii', () => {
  it.each([
    ['the exact placeholder', 'Write to [[EMAIL_1_k3f9x2ab]].', 'Write to jane@example.com.'],
    ['a placeholder that lost one bracket pair', 'Write to [EMAIL_1_k3f9x2ab].', 'Write to jane@example.com.'],
    ['a bare placeholder', 'Write to EMAIL_1_k3f9x2ab.', 'Write to jane@example.com.'],
    ['two placeholders side by side', '[[EMAIL_1_k3f9x2ab]][[PHONE_2_k3f9x2ab]]', 'jane@example.com+1 555 123 4567'],
    ['an unknown placeholder, left as is', 'Write to [[EMAIL_9_k3f9x2ab]].', 'Write to [[EMAIL_9_k3f9x2ab]].'],
    ['another request’s placeholder, left as is', 'Write to [[EMAIL_1_other]].', 'Write to [[EMAIL_1_other]].'],
    ['text without placeholders', 'Nothing [[here]].', 'Nothing [[here]].'],
  ])('%s', (_name, text, expected) => {
    expect(restorePii(text, entities)).toBe(expected);
  });
});

describe('createStreamRestorer', () => {
  it('restores a placeholder split across chunks and holds back only what could start one', () => {
    const restorer = createStreamRestorer(entities);
    expect(restorer.push('Write to [[EMA')).toBe('Write to ');
    expect(restorer.push('IL_1_k3f9')).toBe('');
    expect(restorer.push('x2ab]] or call [')).toBe('jane@example.com or call ');
    expect(restorer.push('[PHONE_2_k3f9x2ab]] today [[not')).toBe('+1 555 123 4567 today [[not');
    expect(restorer.flush()).toBe('');
  });

  it('emits a held-back tail on flush when the stream ends mid-way', () => {
    const restorer = createStreamRestorer(entities);
    expect(restorer.push('cut off at [[EMAIL_1_k3')).toBe('cut off at ');
    expect(restorer.flush()).toBe('[[EMAIL_1_k3');
  });

  it('passes chunks straight through when nothing was masked', () => {
    const restorer = createStreamRestorer([]);
    expect(restorer.push('[[EMA')).toBe('[[EMA');
    expect(restorer.flush()).toBe('');
  });

  it('for any split of mask(x).masked, the pushes plus flush equal x', () => {
    fc.assert(
      fc.property(textWithPii, nonce, fc.array(fc.nat(), { maxLength: 20 }), ({ text }, requestNonce, cuts) => {
        const { masked, entities: found } = maskPii(text, {}, { nonce: requestNonce });
        expect(streamRestore(chunksOf(masked, cuts), found).out).toBe(text);
      }),
      { numRuns: 300 },
    );
  });

  it('for any answer and any split, streaming equals restorePii of the whole', () => {
    const fragment = fc.oneof(
      fc.constantFrom(...entities.flatMap((e) => [e.placeholder, `[${e.placeholder.slice(2, -2)}]`, e.placeholder.slice(2, -2)])),
      fc.constantFrom('[', '[[', ']]', 'EMAIL_', '[[EMAIL_1_k3f9', 'PHONE_2_k3f9x2a'),
      fc.string({ unit: 'grapheme', maxLength: 12 }),
    );
    fc.assert(
      fc.property(fc.array(fragment, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 20 }), (fragments, cuts) => {
        const answer = fragments.join('');
        expect(streamRestore(chunksOf(answer, cuts), entities).out).toBe(restorePii(answer, entities));
      }),
      { numRuns: 300 },
    );
  });

  it('never holds back more than the longest placeholder', () => {
    const longest = Math.max(...entities.map((e) => e.placeholder.length));
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.array(fc.nat(), { maxLength: 20 }), (answer, cuts) => {
        const chunks = chunksOf(answer, cuts);
        const { pushes } = streamRestore(chunks, entities);
        const received = chunks.join('').length;
        expect(received - pushes.join('').length).toBeLessThan(longest);
      }),
      { numRuns: 200 },
    );
  });
});
