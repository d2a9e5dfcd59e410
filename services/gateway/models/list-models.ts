/**
 * `GET /v1/models` and `GET /v1/models/{id}`: the routes the key's tenant may
 * call, in OpenAI's model-list shape (a route name is what callers pass as
 * `model`), with Switchboard's own details — the route's entries and
 * providers — under `switchboard`. A route closed to the tenant is as unknown
 * as one that does not exist (404, open-routes.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RouteConfig } from '../../../schemas/config';
import type { GatewayContext } from '../context';
import { decodePathParam, sendJson } from '../http-io';
import { openRoute, routesOpenTo } from './open-routes';

/** Routes have no creation time; OpenAI's field is required, so it is a fixed 0. */
const CREATED = 0;

function modelOfRoute(name: string, route: RouteConfig) {
  return {
    id: name,
    object: 'model' as const,
    created: CREATED,
    owned_by: 'switchboard',
    switchboard: {
      entries: route.entries.map((entry) => ({
        provider: entry.provider,
        model: entry.model,
        ...(entry.contextTokens ? { context_tokens: entry.contextTokens } : {}),
      })),
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
  sendJson(res, 200, modelOfRoute(id, openRoute(tenant, ctx.config, id)));
}
