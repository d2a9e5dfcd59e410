/**
 * `GET /v1/models` and `GET /v1/models/{id}`: the routes the key's tenant may
 * call, in OpenAI's model-list shape (a route name is what callers pass as
 * `model`), with Switchboard's own details — the route's entries and
 * providers — under `switchboard`. A route closed to the tenant is as unknown
 * as one that does not exist (404), so a key cannot probe for other tenants'
 * routes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ownEntry } from '../../../lib/config/null-prototype';
import type { RouteConfig, SwitchboardConfig } from '../../../schemas/config';
import type { TenantConfig } from '../../../schemas/gateway';
import type { GatewayContext } from '../context';
import { GatewayError } from '../http-errors';
import { decodePathParam, sendJson } from '../http-io';

/** Routes have no creation time; OpenAI's field is required, so it is a fixed 0. */
const CREATED = 0;

export function routesOpenTo(tenant: TenantConfig, config: SwitchboardConfig): string[] {
  const names = Object.keys(config.routes).sort();
  return tenant.routes ? names.filter((name) => tenant.routes!.includes(name)) : names;
}

export function modelOfRoute(name: string, route: RouteConfig) {
  return {
    id: name,
    object: 'model' as const,
    created: CREATED,
    owned_by: 'switchboard',
    switchboard: {
      entries: route.entries.map((entry) => ({ provider: entry.provider, model: entry.model, ...(entry.contextTokens ? { context_tokens: entry.contextTokens } : {}) })),
      providers: [...new Set(route.entries.map((entry) => entry.provider))],
    },
  };
}

export function handleListModels(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse): void {
  const tenant = ctx.tenants.authenticate(req);
  const config = ctx.config;
  const data = routesOpenTo(tenant, config).map((name) => modelOfRoute(name, config.routes[name]!));
  sendJson(res, 200, { object: 'list', data });
}

/** `rawId` is the path segment as sent: decoded only once the caller is authenticated. */
export function handleRetrieveModel(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse, rawId: string): void {
  const tenant = ctx.tenants.authenticate(req);
  const id = decodePathParam(rawId, 'model');
  const route = ownEntry(ctx.config.routes, id);
  if (!route || (tenant.routes && !tenant.routes.includes(id))) {
    throw new GatewayError(404, 'invalid_request_error', `The model '${id}' does not exist or you do not have access to it`, { code: 'model_not_found', param: 'model' });
  }
  sendJson(res, 200, modelOfRoute(id, route));
}
