/**
 * `switchboard report [--tenant T] [--since ISO | --days N] [--until ISO]
 * [--by feature,route,provider,promptVariant] [--cost-by user,feature,language] [--json]`:
 * the insert-rate and cost reports of a period (default the last
 * `insights.periodDays` days), read from SB_INTERACTIONS and SB_FEEDBACK.
 */
import { connectNats } from '../../lib/nats/connect';
import { loadJudgedInteractions } from '../../lib/interactions/load';
import { isReportParamError, parseDimensions, parsePeriod } from '../../lib/insights/report-query';
import { buildCostReport, buildInsertRateReport, formatCostReport, formatInsertRateReport } from '../../lib/insights/usage-report';
import { CliUsageError, type CliContext } from './commands';

export interface ReportFlags {
  tenant?: string;
  since?: string;
  until?: string;
  days?: string;
  by?: string;
  costBy?: string;
}

const flagOf: Record<string, string> = { since: '--since', until: '--until', days: '--days', by: '--by', 'cost-by': '--cost-by' };

export async function runReport(ctx: CliContext, flags: ReportFlags): Promise<void> {
  let request;
  try {
    const period = parsePeriod({ since: flags.since, until: flags.until, days: flags.days }, Date.now(), ctx.config.insights.periodDays);
    request = {
      period,
      insertRateBy: parseDimensions(flags.by, ['feature', 'route', 'provider', 'promptVariant']),
      costBy: parseDimensions(flags.costBy, ['user', 'feature', 'language'], 'cost-by'),
    };
  } catch (error) {
    if (isReportParamError(error)) throw new CliUsageError(`${flagOf[error.param] ?? error.param}: ${error.message}`);
    throw error;
  }
  const nats = await connectNats({ url: ctx.env.NATS_URL, name: 'switchboard-cli', replicas: ctx.env.SB_NATS_REPLICAS });
  try {
    const loaded = await loadJudgedInteractions(nats, {
      ...(flags.tenant ? { tenant: flags.tenant } : {}),
      ...request.period,
      maxInteractions: ctx.config.insights.maxInteractions,
    });
    const scope = { ...(flags.tenant ? { tenant: flags.tenant } : {}), ...request.period, truncated: loaded.truncated };
    const insertRate = buildInsertRateReport(loaded.interactions, request.insertRateBy, scope);
    const cost = buildCostReport(loaded.interactions, request.costBy, scope);
    ctx.print(ctx.json ? JSON.stringify({ insertRate, cost }) : `${formatInsertRateReport(insertRate)}\n\n${formatCostReport(cost)}`);
  } finally {
    await nats.drain().catch(() => undefined);
  }
}
