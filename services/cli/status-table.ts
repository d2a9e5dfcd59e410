/**
 * `switchboard status` as rows and as a text table: one line per breaker —
 * each upstream's own (its account), then one per model routed to it — with
 * its state, reopen time, error rate, latency and headroom. Pure, so the
 * CLI's output is tested without a cluster.
 */
import type { BreakerTarget } from '../../lib/health-registry/breaker-targets';
import type { BreakerState, UpstreamHealth } from '../../schemas/health';

export interface StatusRow {
  upstream: string;
  /** Absent on the upstream's own row (its account-level breaker; the numbers add up its models'). */
  model?: string;
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

/** `health` by breaker key (model level); an upstream's own row sums its models'. */
export function statusRows(
  targets: readonly BreakerTarget[],
  breakers: ReadonlyMap<string, BreakerState>,
  health: ReadonlyMap<string, UpstreamHealth>,
): StatusRow[] {
  return targets.map((target) => {
    const b = breakers.get(target.key);
    const h = target.model !== undefined ? health.get(target.key) : sumOf([...health.values()].filter((x) => x.upstream === target.upstream));
    return {
      upstream: target.upstream,
      ...(target.model !== undefined ? { model: target.model } : {}),
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

/** An upstream's numbers over all its models: counts add up, the streak is the longest. */
function sumOf(
  perModel: readonly UpstreamHealth[],
): (Partial<UpstreamHealth> & Pick<UpstreamHealth, 'calls' | 'failureRate' | 'consecutiveFailures'>) | undefined {
  if (perModel.length === 0) return undefined;
  const calls = perModel.reduce((n, h) => n + h.calls, 0);
  const failures = perModel.reduce((n, h) => n + h.failures, 0);
  return { calls, failureRate: calls > 0 ? failures / calls : 0, consecutiveFailures: Math.max(...perModel.map((h) => h.consecutiveFailures)) };
}

export function formatStatusTable(rows: readonly StatusRow[], now: number): string {
  const header = ['UPSTREAM', 'MODEL', 'STATE', 'REOPENS', 'CALLS', 'ERRORS', 'LATENCY', 'HEADROOM', 'REASON'];
  const lines = rows.map((r) => [
    r.model === undefined ? r.upstream : '',
    r.model ?? '(account)',
    r.state,
    r.reopenAt !== undefined ? `${new Date(r.reopenAt).toISOString().slice(11, 19)} (in ${Math.max(0, (r.reopenAt - now) / 1000).toFixed(1)}s)` : '-',
    String(r.calls),
    `${Math.round(r.errorRate * 100)}%`,
    r.latencyMs !== undefined ? `${r.latencyMs} ms` : '-',
    r.headroom !== undefined ? `${Math.round(r.headroom * 100)}%` : '-',
    r.reason ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  return [header, ...lines]
    .map((l) =>
      l
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
