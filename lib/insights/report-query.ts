/**
 * The parameters every report takes — a period and the dimensions to break
 * it down by — parsed from strings (CLI flags, gateway query parameters) with
 * errors that name the parameter. Pure.
 */
import type { ReportDimension } from './reports';

const reportDimensions: readonly ReportDimension[] = ['feature', 'route', 'provider', 'promptVariant', 'model', 'user', 'language'];

/** A report parameter that cannot be used; `param` names it (`since`, `days`, `by`, ...). */
export class ReportParamError extends Error {
  override readonly name = 'ReportParamError';
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(message);
  }
}

export function isReportParamError(error: unknown): error is ReportParamError {
  return error instanceof Error && error.name === 'ReportParamError';
}

export interface PeriodParams {
  /** ISO 8601 date or date-time. */
  since?: string;
  until?: string;
  /** Days back from `until` (a positive number); not with `since`. */
  days?: string;
}

export interface Period {
  sinceMs: number;
  untilMs: number;
}

const DAY_MS = 86_400_000;
const MAX_DAYS = 366;

function parseInstant(param: string, value: string): number {
  // Date.parse accepts far more than ISO 8601 (e.g. "1"); insist on a date first.
  const ms = /^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value.trim()) ? Date.parse(value.trim()) : NaN;
  if (!Number.isFinite(ms))
    throw new ReportParamError(param, `"${param}" must be an ISO 8601 date or date-time (e.g. 2026-11-16 or 2026-11-16T08:00:00Z), got "${value}"`);
  return ms;
}

/** The period the parameters name; `defaultDays` back from now when neither `since` nor `days` is given. */
export function parsePeriod(params: PeriodParams, now: number, defaultDays = 7): Period {
  if (params.since !== undefined && params.days !== undefined) throw new ReportParamError('days', '"days" and "since" exclude each other: give one');
  const untilMs = params.until === undefined ? now : parseInstant('until', params.until);
  let sinceMs: number;
  if (params.since !== undefined) sinceMs = parseInstant('since', params.since);
  else {
    const days = params.days === undefined ? defaultDays : Number(params.days);
    if (params.days !== undefined && (!/^\s*\d+(\.\d+)?\s*$/.test(params.days) || !(days > 0) || days > MAX_DAYS)) {
      throw new ReportParamError('days', `"days" must be a number of days above 0 and at most ${MAX_DAYS}, got "${params.days}"`);
    }
    sinceMs = untilMs - days * DAY_MS;
  }
  if (sinceMs > untilMs)
    throw new ReportParamError('since', `"since" (${new Date(sinceMs).toISOString()}) is after "until" (${new Date(untilMs).toISOString()})`);
  return { sinceMs, untilMs };
}

/** `feature,route` → the dimensions, each known and named once; `fallback` when absent. */
export function parseDimensions(value: string | undefined, fallback: readonly ReportDimension[], param = 'by'): ReportDimension[] {
  if (value === undefined) return [...fallback];
  const names = value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  if (names.length === 0) throw new ReportParamError(param, `"${param}" names no dimension (known: ${reportDimensions.join(', ')})`);
  const dimensions: ReportDimension[] = [];
  for (const name of names) {
    const known = reportDimensions.find((d) => d === name);
    if (!known) throw new ReportParamError(param, `"${param}": unknown dimension "${name}" (known: ${reportDimensions.join(', ')})`);
    if (!dimensions.includes(known)) dimensions.push(known);
  }
  return dimensions;
}
