/**
 * Errors the gateway answers with, in the wire shape of the API the caller
 * speaks (OpenAI `{error: {message, type, param, code}}`, Anthropic
 * `{type: 'error', error: {type, message}}`), so the official SDKs raise their
 * usual typed errors.
 */
export type ErrorDialect = 'openai' | 'anthropic';

export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  constructor(
    readonly status: number,
    /** OpenAI error `type` (invalid_request_error, authentication_error, rate_limit_error, ...). */
    readonly type: string,
    message: string,
    readonly extra: { code?: string; param?: string; headers?: Record<string, string>; detail?: Record<string, unknown> } = {},
  ) {
    super(message);
  }
}

export function isGatewayError(error: unknown): error is GatewayError {
  return error instanceof Error && error.name === 'GatewayError';
}

export const badRequest = (message: string, param?: string, code = 'invalid_request') =>
  new GatewayError(400, 'invalid_request_error', message, { code, ...(param ? { param } : {}) });

/**
 * The 400 for a body that failed its zod schema: `<what> "<param>": <message>`
 * for the first issue, the param named as the caller knows it (`rename`).
 */
export function badRequestOfIssues(
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>,
  what: string,
  rename: (path: string) => string = (path) => path,
): GatewayError {
  const issue = issues[0]!;
  const param = rename(issue.path.map(String).join('.'));
  return badRequest(`${what}${param ? ` "${param}"` : ''}: ${issue.message}`, param || undefined, 'invalid_parameter');
}

/**
 * A dependency of ours (Temporal, NATS) does not answer: 503 naming it, with
 * a retry-after — the caller did nothing wrong and a retry soon may work.
 */
export function dependencyUnavailable(dependency: 'Temporal' | 'NATS', why: string, retryAfterSeconds: number): GatewayError {
  return new GatewayError(503, 'service_unavailable', `${dependency} is unavailable: ${why}; retry after ${retryAfterSeconds} s`, {
    code: `${dependency.toLowerCase()}_unavailable`,
    headers: { 'retry-after': String(retryAfterSeconds) },
    detail: { switchboard: { unavailable: dependency.toLowerCase() } },
  });
}

/** Anthropic's names for the same failures. */
function anthropicType(error: GatewayError): string {
  if (error.status === 401) return 'authentication_error';
  if (error.status === 403) return 'permission_error';
  if (error.status === 404) return 'not_found_error';
  if (error.status === 429) return 'rate_limit_error';
  if (error.status === 503) return 'overloaded_error';
  if (error.status >= 500) return 'api_error';
  return 'invalid_request_error';
}

export function errorBody(error: GatewayError, dialect: ErrorDialect): Record<string, unknown> {
  if (dialect === 'anthropic') return { type: 'error', error: { type: anthropicType(error), message: error.message, ...error.extra.detail } };
  return {
    error: {
      message: error.message,
      type: error.type,
      param: error.extra.param ?? null,
      code: error.extra.code ?? null,
      ...error.extra.detail,
    },
  };
}
