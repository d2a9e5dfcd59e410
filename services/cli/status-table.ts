/**
 * `switchboard status` as rows and as a text table: one line per upstream
 * with its breaker state, reopen time, error rate, latency and headroom.
 * Pure, so the CLI's output is tested without a cluster.
 */
import type { BreakerState, UpstreamHealth } from '../../schemas/health';

export interface StatusRow {
  upstream: string;
  state: BreakerState['state'];
  /** Epoch ms when an open breaker turns half-open. */
  reopenAt?: number;
  calls: number;
  errorRate: number;
  consecutiveFailures: number;
  latencyMs?: number;
  /** 0..1; absent when the vendor never said. */
  headroom?: number;
  rateLimitedUntil?: number;
  reason?: string;
}

export function statusRows(upstreams: readonly string[], breakers: ReadonlyMap<string, BreakerState>, health: ReadonlyMap<string, UpstreamHealth>): StatusRow[] {
  return upstreams.map((id) => {
    const b = breakers.get(id);
    const h = health.get(id);
    return {
      upstream: id,
      state: b?.state ?? 'closed',
      ...(b?.reopenAt !== undefined && b.state === 'open' ? { reopenAt: b.reopenAt } : {}),
      calls: h?.calls ?? 0,
      errorRate: h?.failureRate ?? 0,
      consecutiveFailures: h?.consecutiveFailures ?? 0,
      ...(h?.latencyEwmaMs !== undefined ? { latencyMs: Math.round(h.latencyEwmaMs) } : {}),
      ...(h?.headroom !== undefined ? { headroom: h.headroom } : {}),
      ...(h?.rateLimitedUntil !== undefined ? { rateLimitedUntil: h.rateLimitedUntil } : {}),
      ...(b?.reason ? { reason: b.reason } : {}),
    };
  });
}

export function formatStatusTable(rows: readonly StatusRow[], now: number): string {
  const header = ['UPSTREAM', 'STATE', 'REOPENS', 'CALLS', 'ERRORS', 'LATENCY', 'HEADROOM', 'REASON'];
  const lines = rows.map((r) => [
    r.upstream,
    r.state,
    r.reopenAt !== undefined ? `${new Date(r.reopenAt).toISOString().slice(11, 19)} (in ${Math.max(0, (r.reopenAt - now) / 1000).toFixed(1)}s)` : '-',
    String(r.calls),
    `${Math.round(r.errorRate * 100)}%`,
    r.latencyMs !== undefined ? `${r.latencyMs} ms` : '-',
    r.headroom !== undefined ? `${Math.round(r.headroom * 100)}%` : '-',
    r.reason ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  return [header, ...lines].map((l) => l.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}
