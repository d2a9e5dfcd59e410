/**
 * Which routes a key's tenant may call, and the one answer for a route it may
 * not: a route closed to the tenant is as unknown as one that does not exist —
 * 404 `model_not_found`, as OpenAI answers an unknown model (the SDKs raise
 * their NotFoundError) — on every endpoint, so a key cannot probe for other
 * tenants' routes.
 */
import { ownEntry } from '../../../lib/config/null-prototype';
import type { RouteConfig, SwitchboardConfig } from '../../../schemas/config';
import type { TenantConfig } from '../../../schemas/gateway';
import { GatewayError } from '../http-errors';

export function routesOpenTo(tenant: TenantConfig, config: SwitchboardConfig): string[] {
  const names = Object.keys(config.routes).sort();
  return tenant.routes ? names.filter((name) => tenant.routes!.includes(name)) : names;
}

/** The route `id` when the tenant may call it; else the 404, naming only the routes it may call. */
export function openRoute(tenant: TenantConfig, config: SwitchboardConfig, id: string): RouteConfig {
  const route = ownEntry(config.routes, id);
  if (route && (!tenant.routes || tenant.routes.includes(id))) return route;
  throw new GatewayError(
    404,
    'invalid_request_error',
    `The model '${id}' does not exist or you do not have access to it; models are Switchboard routes: ${routesOpenTo(tenant, config).join(', ')}`,
    {
      code: 'model_not_found',
      param: 'model',
    },
  );
}
