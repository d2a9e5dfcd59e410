import type { LlmRequest, Message } from '../../schemas/llm';
import { CacheConfig, type CacheConfigInput } from '../../schemas/validation';
import { encodeTenantForKey, hashCanonical, withoutPiiNonce } from './exact-key';
import { cosineSimilarity } from './embedding';

// Semantic-cache rules: which requests may use it, which stored answers a
// lookup may consider, and which of those is a hit. Activities only (hashing
// uses node:crypto through exact-key).

/** Everything that must be equal for a stored answer to be considered at all: all keyed fields of the exact key except the user's prompt. */
export interface SemanticScopeInput {
  tenant: string;
  route: string;
  model: string;
  promptVariant: string;
  /** The system prompt as sent (masked); '' when there is none. */
  systemPrompt: string;
  params?: LlmRequest['params'];
  tools?: LlmRequest['tools'];
  toolChoice?: LlmRequest['toolChoice'];
  output?: LlmRequest['output'];
  /** The request's PII nonce; not keyed (see `ExactCacheKeyInput.piiNonce`). Default none. */
  piiNonce?: string;
}

/**
 * `<tenant>.<sha256 hex>`: the partition a semantic lookup searches. It
 * never spans tenants, system prompts, models, prompt variants, sampling
 * params, tools or output schemas; only the user's prompt may differ.
 */
export function semanticCacheScope(input: SemanticScopeInput): string {
  const scoped = {
    tenant: input.tenant,
    route: input.route,
    model: input.model,
    promptVariant: input.promptVariant,
    systemPrompt: withoutPiiNonce(input.systemPrompt, input.piiNonce),
    params: input.params ?? {},
    tools: input.tools ?? [],
    toolChoice: input.toolChoice ?? null,
    output: input.output ?? null,
  };
  return `${encodeTenantForKey(input.tenant)}.${hashCanonical('semantic-scope', scoped)}`;
}

/** The parts of a single-turn request: at most one system message, then exactly one user message. Null for anything else. */
export function singleTurnPrompt(messages: ReadonlyArray<Message>): { systemPrompt: string; userPrompt: string } | null {
  const [first, second, ...rest] = messages;
  if (rest.length > 0 || !first) return null;
  if (first.role === 'user' && !second) return { systemPrompt: '', userPrompt: first.content };
  if (first.role === 'system' && second?.role === 'user') return { systemPrompt: first.content, userPrompt: second.content };
  return null;
}

/**
 * True when the route enabled the semantic cache and the request is a short
 * single-turn prompt: conversations, tool results and long prompts depend on
 * details a similarity score cannot vouch for.
 */
export function isSemanticCacheEligible(messages: ReadonlyArray<Message>, config: CacheConfigInput): boolean {
  const { semantic } = CacheConfig.parse(config);
  if (!semantic.enabled) return false;
  const prompt = singleTurnPrompt(messages);
  if (!prompt) return false;
  const chars = [...prompt.userPrompt.trim()].length;
  return chars > 0 && chars <= semantic.maxPromptChars;
}

/** A stored answer's handle and the embedding of the prompt that produced it. */
export interface SemanticCandidate {
  key: string;
  embedding: ReadonlyArray<number>;
}

/** The most similar candidate at or above `threshold`, or null. Ties go to the earlier candidate. Candidates with another dimension are skipped. */
export function pickSemanticHit(
  query: ReadonlyArray<number>,
  candidates: ReadonlyArray<SemanticCandidate>,
  threshold: number,
): { key: string; score: number } | null {
  let best: { key: string; score: number } | null = null;
  for (const candidate of candidates) {
    if (candidate.embedding.length !== query.length) continue;
    const score = cosineSimilarity(query, candidate.embedding);
    if (score >= threshold && (!best || score > best.score)) best = { key: candidate.key, score };
  }
  return best;
}
