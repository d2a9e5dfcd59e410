/**
 * The insert-rate and cost reports over a period's judged interactions, as
 * JSON documents (gateway, `--json`) and as text tables (CLI). Pure.
 */
import type { JudgedInteraction } from '../../schemas/interaction';
import { costBy, insertRateBy, type CostRow, type InsertRateRow, type ReportDimension } from './reports';

export interface ReportScope {
  /** The tenant reported on; absent = every tenant. */
  tenant?: string;
  sinceMs: number;
  untilMs: number;
  /** The read stopped at its interaction cap before the period's end. */
  truncated: boolean;
}

export interface Totals {
  calls: number;
  judged: number;
  inserted: number;
  /** inserted / judged; absent when nothing was judged. */
  insertRate?: number;
  costUsd: number;
}

export interface InsertRateReport {
  tenant: string | null;
  since: string;
  until: string;
  truncated: boolean;
  totals: Totals;
  by: Partial<Record<ReportDimension, InsertRateRow[]>>;
}

export interface CostReport {
  tenant: string | null;
  since: string;
  until: string;
  truncated: boolean;
  totals: Totals;
  by: Partial<Record<ReportDimension, CostRow[]>>;
}

function totalsOf(interactions: readonly JudgedInteraction[]): Totals {
  const judged = interactions.filter((i) => i.inserted !== undefined).length;
  const inserted = interactions.filter((i) => i.inserted === true).length;
  const costUsd = interactions.reduce((sum, i) => sum + i.costUsd, 0);
  return { calls: interactions.length, judged, inserted, ...(judged ? { insertRate: inserted / judged } : {}), costUsd };
}

function header(scope: ReportScope) {
  return {
    tenant: scope.tenant ?? null,
    since: new Date(scope.sinceMs).toISOString(),
    until: new Date(scope.untilMs).toISOString(),
    truncated: scope.truncated,
  };
}

export function buildInsertRateReport(interactions: JudgedInteraction[], dimensions: readonly ReportDimension[], scope: ReportScope): InsertRateReport {
  return { ...header(scope), totals: totalsOf(interactions), by: Object.fromEntries(dimensions.map((d) => [d, insertRateBy(interactions, d)])) };
}

export function buildCostReport(interactions: JudgedInteraction[], dimensions: readonly ReportDimension[], scope: ReportScope): CostReport {
  return { ...header(scope), totals: totalsOf(interactions), by: Object.fromEntries(dimensions.map((d) => [d, costBy(interactions, d)])) };
}

const pct = (rate: number | undefined) => (rate === undefined ? '—' : `${(rate * 100).toFixed(1)}%`);
const usd = (value: number) => `$${value.toFixed(6)}`;

/** Left-aligned first column, right-aligned numbers. */
function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)];
}

function title(kind: string, report: { tenant: string | null; since: string; until: string; truncated: boolean; totals: Totals }): string[] {
  const who = report.tenant ? `tenant ${report.tenant}` : 'every tenant';
  return [
    `${kind} — ${who}, ${report.since} to ${report.until}${report.truncated ? ' (stopped at the interaction cap: later calls are missing)' : ''}`,
    `${report.totals.calls} calls, ${report.totals.judged} judged, ${report.totals.inserted} inserted: insert rate ${pct(report.totals.insertRate)}; cost ${usd(report.totals.costUsd)}`,
  ];
}

export function formatInsertRateReport(report: InsertRateReport): string {
  const lines = title('Insert rate', report);
  for (const [dimension, rows] of Object.entries(report.by)) {
    lines.push(
      '',
      ...table(
        [dimension, 'calls', 'judged', 'inserted', 'insert rate'],
        rows.map((r) => [r.key, String(r.calls), String(r.judged), String(r.inserted), pct(r.insertRate)]),
      ),
    );
  }
  return lines.join('\n');
}

export function formatCostReport(report: CostReport): string {
  const lines = title('Cost', report);
  for (const [dimension, rows] of Object.entries(report.by)) {
    lines.push(
      '',
      ...table(
        [dimension, 'calls', 'cost', 'input tok', 'output tok', 'tok/char'],
        rows.map((r) => [r.key, String(r.calls), usd(r.costUsd), String(r.inputTokens), String(r.outputTokens), r.tokensPerChar.toFixed(2)]),
      ),
    );
  }
  return lines.join('\n');
}
