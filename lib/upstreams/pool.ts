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
  /** Models this upstream serves; undefined: all. */
  models?: ReadonlySet<string>;
  client: VendorClient;
}

/**
 * Every upstream of every provider with its SDK client. Which one a call uses
 * is decided by the health-aware picker (./selector.ts).
 */
export class UpstreamPool {
  private byProvider: Map<string, PooledUpstream[]>;
  /** What each client was built from, so a reload keeps the clients (and their sockets) of unchanged upstreams. */
  private built = new Map<string, { signature: string; client: VendorClient }>();

  constructor(config: SwitchboardConfig, secrets: UpstreamSecrets) {
    const next = this.build(config, secrets);
    this.byProvider = next.byProvider;
    this.built = next.built;
  }

  /**
   * Builds the pool of a new config (throws, changing nothing, when an
   * upstream lacks a key or URL) and returns what swaps it in: new attempts
   * then draw from the new upstreams with the new keys.
   */
  prepareReplace(config: SwitchboardConfig, secrets: UpstreamSecrets): () => void {
    const next = this.build(config, secrets);
    return () => {
      this.byProvider = next.byProvider;
      this.built = next.built;
    };
  }

  private build(config: SwitchboardConfig, secrets: UpstreamSecrets) {
    const byProvider = new Map<string, PooledUpstream[]>();
    const built = new Map<string, { signature: string; client: VendorClient }>();
    for (const [provider, p] of Object.entries(config.providers)) {
      const upstreams = p.upstreams.map((u) => {
        const id = upstreamId(provider, u.name);
        const apiKey = secrets.get(id);
        if (!apiKey) throw new Error(`no API key for upstream ${id}`);
        const baseUrl = u.baseUrl ?? p.baseUrl;
        if (!baseUrl) throw new Error(`no baseUrl for upstream ${id}`);
        // Held in memory only, like the key itself; compared, never logged.
        const signature = JSON.stringify([p.protocol, baseUrl, apiKey, u.organization ?? null]);
        const previous = this.built?.get(id);
        const client =
          previous?.signature === signature
            ? previous.client
            : createVendorClient(p.protocol, { baseUrl, apiKey, ...(u.organization ? { organization: u.organization } : {}) });
        built.set(id, { signature, client });
        return { id, provider, protocol: p.protocol, weight: u.weight, ...(u.models ? { models: new Set(u.models) } : {}), client };
      });
      byProvider.set(provider, upstreams);
    }
    return { byProvider, built };
  }

  /** The provider's upstreams; with `model`, only those serving it. */
  upstreams(provider: string, model?: string): readonly PooledUpstream[] {
    const all = this.byProvider.get(provider) ?? [];
    return model === undefined ? all : all.filter((u) => !u.models || u.models.has(model));
  }

  size(provider: string, model?: string): number {
    return this.upstreams(provider, model).length;
  }
}
