/**
 * Tenant API keys, stored as sha256 digests in the config: a request's key is
 * hashed and looked up, so the plain key exists only in the caller's hands.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { GatewayConfig, TenantConfig, TenantKey } from '../../schemas/gateway';
import { GatewayError } from './http-errors';

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export interface TenantDirectory {
  /** The tenant of the request's key (`Authorization: Bearer` or `x-api-key`), or a 401. */
  authenticate(req: IncomingMessage): TenantConfig;
  /** The tenant and which of its keys the request presented (admission budgets are per key too), or a 401. */
  identify(req: IncomingMessage): { tenant: TenantConfig; key: TenantKey };
}

export function createTenantDirectory(config: GatewayConfig): TenantDirectory {
  const byHash = new Map<string, { tenant: TenantConfig; key: TenantKey }>();
  for (const tenant of config.tenants) for (const key of tenant.keys) byHash.set(key.sha256, { tenant, key });
  const identify = (req: IncomingMessage) => {
    const key = presentedKey(req);
    if (!key) throw new GatewayError(401, 'authentication_error', 'missing API key: send "Authorization: Bearer <key>"', { code: 'missing_api_key' });
    const found = byHash.get(hashApiKey(key));
    // The message never echoes the key.
    if (!found) throw new GatewayError(401, 'authentication_error', 'incorrect API key provided', { code: 'invalid_api_key' });
    return found;
  };
  return { identify, authenticate: (req) => identify(req).tenant };
}

function presentedKey(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (auth) {
    const match = /^Bearer\s+(.+)$/i.exec(auth.trim());
    return match?.[1]?.trim() || undefined;
  }
  const apiKey = req.headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.trim() ? apiKey.trim() : undefined;
}
