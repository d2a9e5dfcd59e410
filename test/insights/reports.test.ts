import { findRejectionClusters } from '../../lib/insights/clusters';
import { costBy, insertRateBy, renderInsightsMarkdown } from '../../lib/insights/reports';
import type { JudgedInteraction } from '../../schemas/interaction';

const base: JudgedInteraction = {
  callId: 'c',
  at: 0,
  tenant: 't',
  route: 'r',
  provider: 'openai',
  model: 'm',
  upstream: 'openai/org-a',
  promptVariant: 'v',
  input: 'hello',
  promptAsSent: 'hello',
  output: 'hi',
  attempts: 1,
  latencyMs: 1,
  inputTokens: 10,
  outputTokens: 5,
  costUsd: 0.01,
  language: 'en',
  cacheHit: false,
  validation: 'none',
};

describe('reports', () => {
  const rows: JudgedInteraction[] = [
    { ...base, feature: 'headline', inserted: true },
    { ...base, feature: 'headline', inserted: false },
    { ...base, feature: 'headline', inserted: true },
    { ...base, feature: 'headline' },
    { ...base, feature: 'button', inserted: false },
    { ...base, feature: 'button', language: 'ja', input: '今すぐ購入', inputTokens: 12, costUsd: 0.02 },
  ];

  it('computes the insert rate over judged calls per feature', () => {
    expect(insertRateBy(rows, 'feature')).toEqual([
      { key: 'button', calls: 2, judged: 1, inserted: 0, insertRate: 0 },
      { key: 'headline', calls: 4, judged: 3, inserted: 2, insertRate: 2 / 3 },
    ]);
  });

  it('shows cost per language with tokens per character', () => {
    const byLanguage = costBy(rows, 'language');
    expect(byLanguage.map((r) => r.key)).toEqual(['en', 'ja']);
    expect(byLanguage[0]).toMatchObject({ calls: 5, costUsd: 0.05, inputTokens: 50, tokensPerChar: 2 });
    expect(byLanguage[1]).toMatchObject({ calls: 1, costUsd: 0.02, inputTokens: 12, tokensPerChar: 12 / 5 });
  });

  it('counts a failed call as a call, without diluting tokens per character', () => {
    const failed: JudgedInteraction = {
      ...base,
      callId: 'f',
      output: '',
      inputTokens: 0,
      outputTokens: 0,
      costUsd: 0,
      outcome: 'failed',
      error: 'every upstream failed',
    };
    const [en] = costBy([...rows.filter((r) => r.language === 'en'), failed], 'language');
    expect(en).toMatchObject({ calls: 6, costUsd: 0.05, inputTokens: 50, tokensPerChar: 2 });
  });

  it('renders the insights report as Markdown', () => {
    const markdown = renderInsightsMarkdown(findRejectionClusters(rows), { from: 0, to: 86_400_000 });
    expect(markdown).toContain('# Why users reject answers — 1970-01-01 to 1970-01-02');
    expect(markdown).toContain('4 judged interactions, 2 not inserted; baseline insert rate 50.0%.');
  });
});
