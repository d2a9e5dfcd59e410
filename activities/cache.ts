import { JSONCodec, type KV, type NatsConnection } from 'nats';
import { decodeJson } from '../lib/nats/json-payload';
import { z } from 'zod';
import { exactCacheKey, isSemanticCacheEligible, localEmbedding, pickSemanticHit, semanticCacheScope, singleTurnPrompt } from '../lib/cache';
import type { Logger } from '../lib/log';
import { buckets, openBucket } from '../lib/nats/kv';
import { encodeStreamChunk, streamSubject } from '../lib/nats/stream-chunks';
import { createStreamRestorer, rebasePlaceholders } from '../lib/pii';
import { CachedAnswer, type CacheHit, type CacheLookupInput, type CacheStoreInput } from '../schemas/cache';

const codec = JSONCodec<unknown>();

/** One semantic scope's index: the embeddings of recent questions and the exact keys of their answers. */
const SemanticIndex = z.array(z.object({ key: z.string(), embedding: z.array(z.number()) }));
/** Questions a scope remembers (newest kept); bounds the KV value to ~100 × 128 floats. */
const SEMANTIC_INDEX_SIZE = 100;
const EMBEDDING_DIMS = 128;

/** The bucket keeps entries at most this long; each entry's own TTL is checked on read. */
export const BUCKET_MAX_AGE_MS = 7 * 24 * 3_600_000;

export interface CacheActivityDeps {
  nats: NatsConnection;
  log: Logger;
  /** Default `sb_cache`. */
  bucket?: string;
  /** The vendor embedder (`cache.semantic.embedder: vendor`); without it the local embedder is used. */
  embed?: (text: string, options: { provider?: string; model: string; dimensions: number }) => Promise<number[]>;
  /** Told the result of every look-up (metrics). */
  onLookup?: (route: string, result: 'hit' | 'semantic_hit' | 'miss') => void;
}

/** Exact-cache lookups and stores, run as local activities by llmCall (one KV round trip each). */
export function createCacheActivities({ nats, log, bucket = buckets.cache, onLookup, embed }: CacheActivityDeps) {
  let kv: Promise<KV> | undefined;
  const open = () => (kv ??= openBucket(nats, bucket, { history: 1, ttl: BUCKET_MAX_AGE_MS }));
  const keyOf = (input: CacheLookupInput) =>
    exactCacheKey({
      tenant: input.request.tenant,
      route: input.request.route,
      model: input.model,
      promptVariant: input.promptVariant,
      messages: input.request.messages,
      ...(input.request.params ? { params: input.request.params } : {}),
      ...(input.request.tools ? { tools: input.request.tools } : {}),
      ...(input.request.toolChoice ? { toolChoice: input.request.toolChoice } : {}),
      ...(input.request.output ? { output: input.request.output } : {}),
      ...(input.piiNonce ? { piiNonce: input.piiNonce } : {}),
    });

  /** The scope a semantic lookup may search (never across tenants or system prompts), and the question's embedding. */
  const semanticOf = async (input: CacheLookupInput) => {
    const settings = input.semantic;
    if (!settings?.enabled || !isSemanticCacheEligible(input.request.messages, { semantic: settings })) return undefined;
    const turn = singleTurnPrompt(input.request.messages);
    if (!turn) return undefined;
    const scope = semanticCacheScope({
      tenant: input.request.tenant,
      route: input.request.route,
      model: input.model,
      promptVariant: input.promptVariant,
      systemPrompt: turn.systemPrompt,
      ...(input.request.params ? { params: input.request.params } : {}),
      ...(input.request.tools ? { tools: input.request.tools } : {}),
      ...(input.request.toolChoice ? { toolChoice: input.request.toolChoice } : {}),
      ...(input.request.output ? { output: input.request.output } : {}),
      ...(input.piiNonce ? { piiNonce: input.piiNonce } : {}),
    });
    const embedding =
      settings.embedder === 'vendor' && embed
        ? await embed(turn.userPrompt, {
            ...(settings.embeddingProvider ? { provider: settings.embeddingProvider } : {}),
            model: settings.embeddingModel,
            dimensions: EMBEDDING_DIMS,
          })
        : localEmbedding(turn.userPrompt, EMBEDDING_DIMS);
    // The embedder is part of the scope: vectors of two embedders are not comparable.
    return { indexKey: `semantic.${settings.embedder}.${scope}`, embedding, threshold: settings.threshold };
  };

  /** The exact key of the stored answer to a near-identical question, if one scores above the threshold. */
  async function semanticKey(input: CacheLookupInput): Promise<string | undefined> {
    const semantic = await semanticOf(input);
    if (!semantic) return undefined;
    const entry = await (await open()).get(semantic.indexKey);
    if (!entry || entry.operation !== 'PUT') return undefined;
    const index = SemanticIndex.safeParse(decodeJson(entry.value));
    return index.success ? pickSemanticHit(semantic.embedding, index.data, semantic.threshold)?.key : undefined;
  }

  return {
    /** The stored answer (placeholders rebased to this request's nonce), or null. A streaming call gets it streamed. */
    async lookupCachedAnswer(input: CacheLookupInput): Promise<CacheHit | null> {
      const answer = await lookup(input);
      onLookup?.(input.request.route, answer ? (answer.semantic ? 'semantic_hit' : 'hit') : 'miss');
      return answer;
    },

    async storeCachedAnswer(input: CacheStoreInput): Promise<void> {
      await store(input);
    },
  };

  async function lookup(input: CacheLookupInput): Promise<CacheHit | null> {
    try {
      const store = await open();
      let entry = await store.get(keyOf(input));
      let semantic = false;
      if (!entry || entry.operation !== 'PUT') {
        const near = await semanticKey(input);
        entry = near ? await store.get(near) : null;
        semantic = true;
      }
      if (!entry || entry.operation !== 'PUT') return null;
      const parsed = CachedAnswer.safeParse(decodeJson(entry.value));
      if (!parsed.success || parsed.data.expiresAt <= Date.now()) return null;
      const answer = parsed.data;
      const rebase = (text: string) => (answer.piiNonce && input.piiNonce ? rebasePlaceholders(text, answer.piiNonce, input.piiNonce) : text);
      const rebased = { ...answer, text: rebase(answer.text), ...(input.piiNonce ? { piiNonce: input.piiNonce } : {}), ...(semantic ? { semantic } : {}) };
      if (input.request.stream) {
        // A cached answer still streams: restored, in small pieces, like a fast vendor.
        const restorer = createStreamRestorer(input.piiEntities ?? []);
        const pieces = rebased.text.match(/[\s\S]{1,24}/g) ?? [];
        let index = 0;
        for (const piece of pieces) {
          const text = restorer.push(piece);
          if (text) nats.publish(streamSubject(input.callId), encodeStreamChunk({ type: 'delta', attempt: 0, index: index++, text }));
        }
        const rest = restorer.flush();
        if (rest) nats.publish(streamSubject(input.callId), encodeStreamChunk({ type: 'delta', attempt: 0, index: index++, text: rest }));
      }
      return rebased;
    } catch (error) {
      log.warn({ err: error, callId: input.callId }, 'cache lookup failed; calling the vendor');
      return null;
    }
  }

  async function store(input: CacheStoreInput): Promise<void> {
    const now = Date.now();
    const value: CachedAnswer = { ...input.answer, storedAt: now, expiresAt: now + Math.min(input.ttlMs, BUCKET_MAX_AGE_MS) };
    try {
      const store = await open();
      const key = keyOf(input);
      await store.put(key, codec.encode(value));
      const semantic = await semanticOf(input);
      if (semantic) await appendToIndex(store, semantic.indexKey, { key, embedding: semantic.embedding });
    } catch (error) {
      log.warn({ err: error, callId: input.callId }, 'cache store failed');
    }
  }
}

/** Appends to a scope's index with compare-and-set, so two workers storing at once both land. */
async function appendToIndex(store: KV, indexKey: string, item: { key: string; embedding: number[] }): Promise<void> {
  for (let tries = 0; tries < 5; tries++) {
    const entry = await store.get(indexKey);
    const current = entry && entry.operation === 'PUT' ? SemanticIndex.safeParse(decodeJson(entry.value)) : undefined;
    const items = (current?.success ? current.data : []).filter((i) => i.key !== item.key);
    const next = codec.encode([...items, { key: item.key, embedding: item.embedding.map((x) => Math.round(x * 1e4) / 1e4) }].slice(-SEMANTIC_INDEX_SIZE));
    try {
      if (entry && entry.operation === 'PUT') await store.update(indexKey, next, entry.revision);
      else await store.create(indexKey, next);
      return;
    } catch {
      // someone else wrote first: read again
    }
  }
}
