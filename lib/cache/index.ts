// Cache keys and semantic-cache rules. This barrel pulls in node:crypto:
// activities only. Workflow code that needs the embedder imports
// './embedding' directly (pure, no Node built-ins).
export { exactCacheKey, encodeTenantForKey, withoutPiiNonce } from './exact-key';
export type { ExactCacheKeyInput } from './exact-key';
export { canonicalJson } from './canonical-json';
export { localEmbedding, cosineSimilarity } from './embedding';
export { semanticCacheScope, isSemanticCacheEligible, singleTurnPrompt, pickSemanticHit } from './semantic';
export type { SemanticScopeInput, SemanticCandidate } from './semantic';
