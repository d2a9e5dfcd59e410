/**
 * The last step from an HTTP body to an LlmRequest, common to both dialects:
 * the tenant comes from the API key (never from the body), `Idempotency-Key`
 * becomes the idempotency key, the gateway deadline bounds the call, and the
 * route must exist and be open to the tenant (else the 404 of
 * models/open-routes.ts) — all checked before anything starts.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { LlmRequest, type LlmRequestInput } from '../../schemas/llm';
import type { SwitchboardConfig } from '../../schemas/config';
import type { TenantConfig } from '../../schemas/gateway';
import { badRequest, badRequestOfIssues, type ErrorDialect } from './http-errors';
import { openRoute } from './models/open-routes';
import { wireParamName } from './param-names';

export function finaliseRequest(
  input: LlmRequestInput,
  tenant: TenantConfig,
  headers: IncomingHttpHeaders,
  config: SwitchboardConfig,
  dialect: ErrorDialect = 'openai',
): LlmRequest {
  const route = input.route;
  const routeConfig = openRoute(tenant, config, route);
  if (input.params?.logprobs) {
    // Only OpenAI-protocol vendors return logprobs: a route that may fall back to another cannot promise them.
    const other = routeConfig.entries.map((e) => e.provider).find((p) => config.providers[p]?.protocol !== 'openai');
    if (other)
      throw badRequest(
        `logprobs: route "${route}" may be answered by "${other}", which returns no logprobs; ask a route whose entries are all OpenAI-protocol`,
        'logprobs',
        'unsupported_parameter',
      );
  }
  const key = headers['idempotency-key'];
  const parsed = LlmRequest.safeParse({
    ...input,
    tenant: tenant.id,
    ...(typeof key === 'string' && key ? { idempotencyKey: key } : {}),
    deadlineMs: config.gateway.deadlineMs,
  });
  if (!parsed.success) throw badRequestOfIssues(parsed.error.issues, 'invalid parameter', (path) => wireParamName(path, dialect));
  return parsed.data;
}

/** Characters of the request's text, for the admission token estimate. */
export function requestChars(request: LlmRequest): number {
  return request.messages.reduce((sum, m) => sum + m.content.length, 0);
}
