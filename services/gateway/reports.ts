/**
 * `GET /v1/reports/insert-rate?by=feature,route&since=…&until=…|days=N` and
 * `GET /v1/reports/cost?by=user,language…`: the API key's tenant's reports
 * over a period (default the last 7 days), read from SB_INTERACTIONS and
 * SB_FEEDBACK. Only the key's tenant is ever read; a bad parameter is a 400
 * naming it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { loadJudgedInteractions } from '../../lib/interactions/load';
import { isReportParamError, parseDimensions, parsePeriod, ReportParamError } from '../../lib/insights/report-query';
import { buildCostReport, buildInsertRateReport } from '../../lib/insights/usage-report';
import type { GatewayContext } from './context';
import { badRequest } from './http-errors';
import { sendJson } from './http-io';

export type ReportKind = 'insert-rate' | 'cost';

const allowedParams = new Set(['by', 'since', 'until', 'days']);

function single(query: URLSearchParams, name: string): string | undefined {
  const values = query.getAll(name);
  if (values.length > 1) throw new ReportParamError(name, `"${name}" is given ${values.length} times; give it once`);
  return values[0];
}

export async function handleReport(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse, kind: ReportKind): Promise<void> {
  const tenant = ctx.tenants.authenticate(req);
  const query = new URL(req.url ?? '/', 'http://gateway').searchParams;
  let request;
  try {
    for (const name of query.keys()) {
      if (!allowedParams.has(name)) throw new ReportParamError(name, `unknown parameter "${name}" (known: ${[...allowedParams].join(', ')})`);
    }
    const period = parsePeriod(
      { since: single(query, 'since'), until: single(query, 'until'), days: single(query, 'days') },
      Date.now(),
      ctx.config.insights.periodDays,
    );
    const dimensions = parseDimensions(single(query, 'by'), kind === 'cost' ? ['user'] : ['feature']);
    request = { period, dimensions };
  } catch (error) {
    if (isReportParamError(error)) throw badRequest(error.message, error.param, 'invalid_parameter');
    throw error;
  }
  const { period, dimensions } = request;
  const loaded = await loadJudgedInteractions(ctx.nats, { tenant: tenant.id, ...period, maxInteractions: ctx.config.insights.maxInteractions });
  const scope = { tenant: tenant.id, ...period, truncated: loaded.truncated };
  sendJson(res, 200, kind === 'cost' ? buildCostReport(loaded.interactions, dimensions, scope) : buildInsertRateReport(loaded.interactions, dimensions, scope));
}
