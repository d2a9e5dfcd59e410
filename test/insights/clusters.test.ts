import { findRejectionClusters } from '../../lib/insights/clusters';
import { detectLanguage } from '../../lib/insights/language';
import type { JudgedInteraction } from '../../schemas/interaction';

let n = 0;
function interaction(input: string, output: string, inserted: boolean, extra: Partial<JudgedInteraction> = {}): JudgedInteraction {
  n++;
  return {
    callId: `c-${n}`,
    at: n,
    tenant: 't',
    route: 'chat-default',
    provider: 'openai',
    model: 'gpt-4o-mini',
    upstream: 'openai/org-a',
    promptVariant: 'p:default',
    input,
    promptAsSent: input,
    output,
    attempts: 1,
    latencyMs: 100,
    inputTokens: 10,
    outputTokens: 10,
    costUsd: 0.0001,
    language: 'en',
    cacheHit: false,
    validation: 'none',
    feature: 'image',
    inserted,
    ...extra,
  };
}

/** A deterministic pseudo-random stream so the synthetic traffic is the same every run. */
function* pseudoRandom(seed: number): Generator<number> {
  let x = seed;
  for (;;) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    yield x / 2 ** 31;
  }
}

describe('findRejectionClusters', () => {
  const random = pseudoRandom(7);
  const next = () => random.next().value as number;
  const subjects = ['a red bicycle', 'a mountain lake', 'a city skyline', 'a bowl of fruit', 'an old lighthouse', 'a cat on a sofa'];
  const traffic: JudgedInteraction[] = [];
  for (let i = 0; i < 300; i++) {
    const subject = subjects[i % subjects.length]!;
    const transparent = i % 10 === 0;
    const input = transparent ? `Draw ${subject} on a transparent background` : `Draw ${subject} in watercolour`;
    // transparent backgrounds: rejected 9 times in 10; everything else: 1 in 10
    traffic.push(interaction(input, 'An image description.', transparent ? next() > 0.9 : next() > 0.1));
  }
  for (let i = 0; i < 80; i++) {
    const tooLong = i % 2 === 0;
    const output = tooLong
      ? 'Click here to discover everything our wonderful bakery can offer you today, from fresh bread to cakes and pastries made with love by our team every single morning before sunrise.'
      : 'Order now';
    traffic.push(interaction(`Button text for a bakery signup ${i}`, output, tooLong ? next() > 0.85 : next() > 0.1, { feature: 'button' }));
  }

  const report = findRejectionClusters(traffic);

  it('finds the term that almost always gets rejected and names it', () => {
    const cluster = report.clusters.find((c) => c.terms.includes('transparent'));
    expect(cluster).toBeDefined();
    expect(cluster!.label).toBe('inputs mentioning "background" + "transparent"');
    expect(cluster!.insertRate).toBeLessThan(0.3);
    expect(cluster!.lift).toBeGreaterThan(3);
    expect(cluster!.terms).toEqual(expect.arrayContaining(['transparent', 'background']));
    expect(cluster!.examples[0]).toContain('transparent background');
  });

  it('finds the feature whose answers are too long', () => {
    const cluster = report.clusters.find((c) => c.feature === 'attr:feature=button&output=long');
    expect(cluster).toBeDefined();
    expect(cluster!.label).toBe('feature=button with output=long');
    expect(cluster!.attributes).toEqual(expect.arrayContaining(['feature=button', 'output=long']));
  });

  it('does not report the harmless majority, and merges co-occurring terms into one cluster', () => {
    expect(report.clusters.map((c) => c.feature)).not.toContain('term:watercolour');
    expect(report.clusters.filter((c) => c.terms.includes('transparent'))).toHaveLength(1);
    expect(report.clusters).toHaveLength(2);
    expect(report.baselineInsertRate).toBeGreaterThan(0.7);
  });

  it('computes the baseline over judged interactions only', () => {
    const unjudged = { ...interaction('x', 'y', true), inserted: undefined };
    const small = findRejectionClusters([interaction('a', 'b', true), interaction('a', 'b', false), unjudged]);
    expect(small).toMatchObject({ judged: 2, rejected: 1, baselineInsertRate: 0.5, clusters: [] });
  });
});

describe('detectLanguage', () => {
  it.each([
    ['Write a headline for the bakery and the café', 'en'],
    ['Schreibe eine Überschrift für die Bäckerei und das Café', 'de'],
    ['Écris un titre pour la boulangerie et le café', 'fr'],
    ['パン屋の見出しを書いてください', 'ja'],
    ['为面包店写一个标题', 'zh'],
    ['Напишите заголовок для пекарни', 'ru'],
    ['xyz', 'und'],
    // ids, hashes and PII placeholders are not words of any language
    ['[[echo]] Please write to [[EMAIL_1_e0a0b0c0]] today pii-stream-3e4a9b1c', 'en'],
  ])('%s → %s', (text, language) => {
    expect(detectLanguage(text)).toBe(language);
  });
});
