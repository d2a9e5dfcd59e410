/**
 * Embedding routes (`POST /v1/embeddings`), checked at load: a route that
 * declares a vector size (`embeddingDimensions`, or an entry's `dimensions`)
 * serves embeddings, so every entry must answer that one size — a fallback
 * across vendors is allowed only where the route says the sizes match — and
 * no entry may be an Anthropic provider (Anthropic has no embeddings API).
 * Pure: the config schema and the gateway both ask it.
 */

/** The parts of a config this check reads (structural, so the config schema can import it). */
interface EmbeddingRouteView {
  embeddingDimensions?: number | undefined;
  entries: Array<{ provider: string; model: string; dimensions?: number | undefined }>;
}
interface ProviderView {
  protocol: string;
}

export interface EmbeddingRouteIssue {
  path: Array<string | number>;
  message: string;
}

/** The route declares a vector size, so it serves embeddings. */
export function isEmbeddingRoute(route: EmbeddingRouteView): boolean {
  return route.embeddingDimensions !== undefined || route.entries.some((e) => e.dimensions !== undefined);
}

/** The one vector size the route promises (its `embeddingDimensions`, else its entries' one `dimensions`), or undefined. */
export function promisedDimensions(route: EmbeddingRouteView): number | undefined {
  if (route.embeddingDimensions !== undefined) return route.embeddingDimensions;
  const sizes = new Set(route.entries.map((e) => e.dimensions));
  return sizes.size === 1 ? [...sizes][0] : undefined;
}

export function embeddingRouteIssues(config: { routes: Record<string, EmbeddingRouteView>; providers: Record<string, ProviderView> }): EmbeddingRouteIssue[] {
  const issues: EmbeddingRouteIssue[] = [];
  for (const [name, route] of Object.entries(config.routes)) {
    if (!isEmbeddingRoute(route)) continue;
    const providers = [...new Set(route.entries.map((e) => e.provider))];
    const first = route.entries.findIndex((e) => e.dimensions !== undefined);
    route.entries.forEach((entry, index) => {
      const at = ['routes', name, 'entries', index];
      if (config.providers[entry.provider]?.protocol === 'anthropic') {
        issues.push({
          path: [...at, 'provider'],
          message: `"${entry.provider}" is an Anthropic provider, which has no embeddings API (routes.${name} is an embeddings route: it declares a vector size)`,
        });
      }
      if (entry.dimensions === undefined) {
        if (route.embeddingDimensions === undefined && providers.length > 1) {
          issues.push({
            path: [...at, 'dimensions'],
            message: `routes.${name} falls back across providers (${providers.join(', ')}): say this entry's vector size, or set routes.${name}.embeddingDimensions`,
          });
        }
      } else if (route.embeddingDimensions !== undefined && entry.dimensions !== route.embeddingDimensions) {
        issues.push({
          path: [...at, 'dimensions'],
          message: `${entry.dimensions} differs from routes.${name}.embeddingDimensions (${route.embeddingDimensions}): a fallback must answer vectors of the route's size`,
        });
      } else if (route.embeddingDimensions === undefined && entry.dimensions !== route.entries[first]!.dimensions) {
        const other = route.entries[first]!;
        issues.push({
          path: [...at, 'dimensions'],
          message: `${entry.provider}/${entry.model} answers ${entry.dimensions} dimensions, entries[${first}] (${other.provider}/${other.model}) ${other.dimensions}: vectors of different sizes cannot fall back to each other (set routes.${name}.embeddingDimensions for models that can shorten theirs)`,
        });
      }
    });
  }
  return issues;
}
