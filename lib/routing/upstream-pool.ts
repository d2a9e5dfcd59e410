import { upstreamId, type SwitchboardConfig } from '../../schemas/config';
import type { UpstreamSecrets } from '../config/load';
import { createVendorClient } from '../vendors';
import type { VendorClient } from '../vendors/types';

export interface PooledUpstream {
  /** `<provider>/<name>` */
  id: string;
  provider: string;
  protocol: 'openai' | 'anthropic';
  weight: number;
  client: VendorClient;
}

/**
 * Every upstream of every provider with its SDK client. Which one a call uses
 * is decided by the health-aware picker (lib/health-registry/upstream-selector).
 */
export class UpstreamPool {
  private readonly byProvider = new Map<string, PooledUpstream[]>();

  constructor(config: SwitchboardConfig, secrets: UpstreamSecrets) {
    for (const [provider, p] of Object.entries(config.providers)) {
      const upstreams = p.upstreams.map((u) => {
        const id = upstreamId(provider, u.name);
        const apiKey = secrets.get(id);
        if (!apiKey) throw new Error(`no API key for upstream ${id}`);
        const baseUrl = u.baseUrl ?? p.baseUrl;
        if (!baseUrl) throw new Error(`no baseUrl for upstream ${id}`);
        return {
          id,
          provider,
          protocol: p.protocol,
          weight: u.weight,
          client: createVendorClient(p.protocol, { baseUrl, apiKey, ...(u.organization ? { organization: u.organization } : {}) }),
        };
      });
      this.byProvider.set(provider, upstreams);
    }
  }

  upstreams(provider: string): readonly PooledUpstream[] {
    return this.byProvider.get(provider) ?? [];
  }

  size(provider: string): number {
    return this.upstreams(provider).length;
  }
}
