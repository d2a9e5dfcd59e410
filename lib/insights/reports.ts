/** Insert rate and cost breakdowns over judged interactions. Pure. */
import type { JudgedInteraction } from '../../schemas/interaction';
import type { InsightReport } from './clusters';

export type ReportDimension = 'feature' | 'route' | 'provider' | 'promptVariant' | 'user' | 'language' | 'model';

export interface InsertRateRow {
  key: string;
  calls: number;
  judged: number;
  inserted: number;
  /** inserted / judged; undefined when nothing was judged. */
  insertRate?: number;
}

export interface CostRow {
  key: string;
  calls: number;
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
  /** Input tokens per character of the prompt as sent: how much a language pays for the same text length. */
  tokensPerChar: number;
}

const keyOf = (i: JudgedInteraction, dimension: ReportDimension) => String(i[dimension] ?? '(none)');

export function insertRateBy(interactions: JudgedInteraction[], dimension: ReportDimension): InsertRateRow[] {
  const rows = new Map<string, InsertRateRow>();
  for (const i of interactions) {
    const key = keyOf(i, dimension);
    const row = rows.get(key) ?? { key, calls: 0, judged: 0, inserted: 0 };
    row.calls++;
    if (i.inserted !== undefined) row.judged++;
    if (i.inserted === true) row.inserted++;
    rows.set(key, row);
  }
  return [...rows.values()].map((r) => ({ ...r, ...(r.judged ? { insertRate: r.inserted / r.judged } : {}) })).sort((a, b) => a.key.localeCompare(b.key));
}

export function costBy(interactions: JudgedInteraction[], dimension: ReportDimension): CostRow[] {
  const rows = new Map<string, CostRow & { chars: number }>();
  for (const i of interactions) {
    const key = keyOf(i, dimension);
    const row = rows.get(key) ?? { key, calls: 0, costUsd: 0, inputTokens: 0, outputTokens: 0, tokensPerChar: 0, chars: 0 };
    row.calls++;
    row.costUsd += i.costUsd;
    row.inputTokens += i.inputTokens;
    row.outputTokens += i.outputTokens;
    // The prompt as sent is what the input tokens counted (system prompt included), not the user's input alone.
    // A failed call counted no tokens: its characters would only dilute the ratio.
    if (i.outcome !== 'failed') row.chars += [...(i.promptAsSent || i.input)].length;
    rows.set(key, row);
  }
  return [...rows.values()]
    .map(({ chars, ...r }) => ({ ...r, tokensPerChar: chars ? r.inputTokens / chars : 0 }))
    .sort((a, b) => b.costUsd - a.costUsd || a.key.localeCompare(b.key));
}

const pct = (rate: number | undefined) => (rate === undefined ? '—' : `${(rate * 100).toFixed(1)}%`);

export interface MarkdownOptions {
  /** The tenant the report covers; absent = every tenant. */
  tenant?: string;
  /** The read stopped at its interaction cap. */
  truncated?: boolean;
  /** An LLM's name and likely cause per cluster (same order as the clusters), when the job asked for them. */
  namings?: ReadonlyArray<{ name: string; cause: string } | undefined>;
}

/** The insights report as Markdown (published with the job's result and written to a file). */
export function renderInsightsMarkdown(report: InsightReport, period: { from: number; to: number }, options: MarkdownOptions = {}): string {
  const lines = [
    `# Why users reject answers — ${new Date(period.from).toISOString().slice(0, 10)} to ${new Date(period.to).toISOString().slice(0, 10)}`,
    '',
    `${options.tenant ? `Tenant ${options.tenant}: ` : ''}${report.judged} judged interactions, ${report.rejected} not inserted; baseline insert rate ${pct(report.baselineInsertRate)}.`,
    '',
  ];
  if (options.truncated) lines.push("The read stopped at `insights.maxInteractions`: the period's latest calls are missing.", '');
  if (report.clusters.length === 0) lines.push('No group of rejections stands out from the baseline.');
  report.clusters.forEach((c, index) => {
    const naming = options.namings?.[index];
    lines.push(
      `## ${index + 1}. ${naming ? `${naming.name} (${c.label})` : c.label}`,
      '',
      ...(naming ? [`- likely cause (suggested by an LLM): ${naming.cause}`] : []),
      `- ${c.size} rejected of ${c.support}; insert rate ${pct(c.insertRate)} against ${pct(c.baselineInsertRate)} (rejected ${c.lift.toFixed(1)}× as often)`,
      `- distinguishing terms: ${c.terms.join(', ') || '—'}`,
      `- shared attributes: ${c.attributes.join(', ') || '—'}`,
      `- examples:`,
      ...c.examples.map((e) => `  - ${e.replace(/\n/g, ' ').slice(0, 200)}`),
      '',
    );
  });
  return lines.join('\n');
}
