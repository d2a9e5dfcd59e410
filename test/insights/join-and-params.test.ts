import { readNaming, namingRequest } from '../../lib/insights/naming';
import { parseDimensions, parsePeriod, type ReportParamError } from '../../lib/insights/report-query';
import { formatCostReport, formatInsertRateReport, buildCostReport, buildInsertRateReport } from '../../lib/insights/usage-report';
import { renderInsightsMarkdown } from '../../lib/insights/reports';
import { termsOf } from '../../lib/insights/features';
import { joinFeedback } from '../../lib/interactions/join';
import { parseConfig } from '../../lib/config/load';
import { switchboardConfig } from '../harness/switchboard';
import type { Feedback, Interaction } from '../../schemas/interaction';

const record = (callId: string, extra: Partial<Interaction> = {}): Interaction => ({
  callId,
  at: 1_000,
  tenant: 'acme',
  route: 'r',
  provider: 'openai',
  model: 'gpt-4o-mini',
  upstream: 'openai/org-a',
  promptVariant: 'v',
  input: 'hello there',
  promptAsSent: 'user: hello there',
  output: 'hi',
  attempts: 1,
  latencyMs: 5,
  inputTokens: 10,
  outputTokens: 4,
  costUsd: 0.001,
  language: 'en',
  cacheHit: false,
  validation: 'none',
  ...extra,
});
const verdict = (callId: string, inserted: boolean, at: number, extra: Partial<Feedback> = {}): Feedback => ({
  callId,
  tenant: 'acme',
  inserted,
  at,
  ...extra,
});

describe('joinFeedback', () => {
  it('joins by call id; the latest verdict wins, whatever order it arrived in', () => {
    const joined = joinFeedback(
      [record('a'), record('b'), record('c')],
      [verdict('a', true, 10), verdict('b', false, 30, { note: 'too long' }), verdict('a', false, 20, { note: 'changed my mind' }), verdict('b', true, 25)],
    );
    expect(joined.map((i) => [i.callId, i.inserted, i.note])).toEqual([
      ['a', false, 'changed my mind'],
      ['b', false, 'too long'],
      ['c', undefined, undefined],
    ]);
  });

  it('never invents an interaction for feedback on an unknown call, and never crosses tenants', () => {
    const joined = joinFeedback([record('a'), record('x', { tenant: 'globex' })], [verdict('ghost', true, 1), verdict('x', true, 2)]);
    expect(joined).toHaveLength(2);
    expect(joined.find((i) => i.callId === 'x')!.inserted).toBeUndefined();
    expect(joined.some((i) => i.callId === 'ghost')).toBe(false);
  });

  it('keeps one interaction per call id (a re-published record is the same call)', () => {
    expect(joinFeedback([record('a'), record('a', { output: 'again' })], [])).toHaveLength(1);
  });
});

describe('report parameters', () => {
  const now = Date.parse('2026-11-20T12:00:00Z');
  const paramOf = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      return (error as ReportParamError).param;
    }
    return 'no error';
  };

  it('defaults to the last N days and accepts ISO dates or days', () => {
    expect(parsePeriod({}, now)).toEqual({ sinceMs: now - 7 * 86_400_000, untilMs: now });
    expect(parsePeriod({ days: '2' }, now)).toEqual({ sinceMs: now - 2 * 86_400_000, untilMs: now });
    expect(parsePeriod({ since: '2026-11-01', until: '2026-11-02T06:00:00Z' }, now)).toEqual({
      sinceMs: Date.parse('2026-11-01'),
      untilMs: Date.parse('2026-11-02T06:00:00Z'),
    });
  });

  it.each([
    [{ since: 'yesterday' }, 'since'],
    [{ since: '1' }, 'since'],
    [{ until: '2026-13-45' }, 'until'],
    [{ days: '0' }, 'days'],
    [{ days: 'seven' }, 'days'],
    [{ days: '400' }, 'days'],
    [{ since: '2026-11-01', days: '3' }, 'days'],
    [{ since: '2026-11-10', until: '2026-11-01' }, 'since'],
  ])('%j is rejected naming %s', (params, param) => {
    expect(paramOf(() => parsePeriod(params, now))).toBe(param);
  });

  it('parses dimensions, naming the parameter of an unknown one', () => {
    expect(parseDimensions(undefined, ['feature'])).toEqual(['feature']);
    expect(parseDimensions('route, provider,route', ['feature'])).toEqual(['route', 'provider']);
    expect(paramOf(() => parseDimensions('colour', ['feature']))).toBe('by');
    expect(paramOf(() => parseDimensions(',', ['feature'], 'cost-by'))).toBe('cost-by');
  });
});

describe('usage reports', () => {
  const rows = [
    { ...record('a', { feature: 'button', user: 'u1' }), inserted: true },
    {
      ...record('b', { feature: 'button', user: 'u2', costUsd: 0.004, language: 'ja', input: '購入', promptAsSent: 'user: 購入', inputTokens: 6 }),
      inserted: false,
    },
    record('c', { feature: 'image', user: 'u1' }),
  ];
  const scope = { tenant: 'acme', sinceMs: 0, untilMs: 86_400_000, truncated: false };

  it('sums totals and breaks down by each dimension asked for', () => {
    const report = buildInsertRateReport(rows, ['feature'], scope);
    expect(report.totals).toEqual({ calls: 3, judged: 2, inserted: 1, insertRate: 0.5, costUsd: 0.006 });
    expect(report.by.feature).toEqual([
      { key: 'button', calls: 2, judged: 2, inserted: 1, insertRate: 0.5 },
      { key: 'image', calls: 1, judged: 0, inserted: 0 },
    ]);
    expect(formatInsertRateReport(report)).toMatch(/button\s+2\s+2\s+1\s+50\.0%/);
  });

  it('shows tokens per character of the prompt as sent, per language', () => {
    const report = buildCostReport(rows, ['language'], scope);
    expect(report.by.language).toEqual([
      expect.objectContaining({ key: 'ja', costUsd: 0.004, inputTokens: 6, tokensPerChar: 6 / 'user: 購入'.length }),
      expect.objectContaining({ key: 'en', costUsd: 0.002, inputTokens: 20, tokensPerChar: 20 / (2 * 'user: hello there'.length) }),
    ]);
    expect(formatCostReport(report)).toContain('tok/char');
  });
});

describe('insights naming and Markdown', () => {
  const cluster = {
    feature: 'term:transparent',
    label: 'inputs mentioning "transparent"',
    size: 9,
    support: 10,
    insertRate: 0.1,
    baselineInsertRate: 0.7,
    lift: 3,
    terms: ['transparent'],
    attributes: ['feature=image'],
    examples: ['Draw a cat on a transparent background'],
  };

  it('asks for a name and a cause with structured output, and reads them back', () => {
    const request = namingRequest(cluster, { route: 'chat-default', tenant: 'switchboard' });
    expect(request.output?.name).toBe('cluster_naming');
    expect(request.messages.at(-1)!.content).toContain('Draw a cat on a transparent background');
    expect(readNaming({ name: ' Transparent images ', cause: 'The model cannot make alpha.' })).toEqual({
      name: 'Transparent images',
      cause: 'The model cannot make alpha.',
    });
    expect(readNaming({ name: '', cause: 'x' })).toBeUndefined();
    expect(readNaming('text')).toBeUndefined();
  });

  it('puts the name and cause in the Markdown when there are some', () => {
    const report = { judged: 20, rejected: 12, baselineInsertRate: 0.4, clusters: [cluster] };
    const markdown = renderInsightsMarkdown(
      report,
      { from: 0, to: 86_400_000 },
      { tenant: 'acme', namings: [{ name: 'Transparent images', cause: 'No alpha channel.' }] },
    );
    expect(markdown).toContain('## 1. Transparent images (inputs mentioning "transparent")');
    expect(markdown).toContain('- likely cause (suggested by an LLM): No alpha channel.');
    expect(markdown).toContain('Tenant acme: 20 judged interactions');
  });

  it('leaves markup in double brackets out of the terms', () => {
    expect(termsOf('Button text for signup [[tokens:60]] [[say:Order now]] [[EMAIL_1_ab12cd34]]')).toEqual(['button', 'text', 'signup']);
  });
});

describe('insights config', () => {
  const withInsights = (insights: unknown) => () => parseConfig({ ...switchboardConfig('http://127.0.0.1:1'), insights }, 'test config');

  it('defaults to a weekly schedule with naming and the webhook off', () => {
    expect(withInsights(undefined)().insights).toMatchObject({ schedule: '0 6 * * 1', periodDays: 7, reportDir: '.data/insights', naming: { enabled: false } });
    expect(withInsights(undefined)().insights.webhookUrlEnv).toBeUndefined();
  });

  it.each([
    [{ schedule: 'weekly' }, 'insights.schedule'],
    [{ naming: { enabled: true } }, 'insights.naming.route: a route is required when naming is enabled'],
    [{ naming: { enabled: true, route: 'nope' } }, 'insights.naming.route: unknown route "nope"'],
    [{ webhookUrlEnv: 'https://hooks.example/x' }, 'insights.webhookUrlEnv'],
    [{ periodDays: 0 }, 'insights.periodDays'],
  ])('%j is refused naming the field', (insights, message) => {
    expect(withInsights(insights)).toThrow(message);
  });
});
