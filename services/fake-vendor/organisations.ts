/**
 * The organisations the fake vendor serves, indexed by API key. Each holds its
 * own rate-limiter state, so limits are per organisation as at the real
 * vendors, whatever key of the organisation is used.
 */
import type { FakeVendorConfig, ModelConfig, OrganisationConfig, VendorProtocol } from '../../schemas/fake-vendor';
import { initialLimiterState, type LimiterState, type Limits } from './rate-limit';

export interface ModelSettings {
  id: string;
  contextTokens: number;
  embeddingDimensions: number;
}

export interface AnswerTiming {
  ttftMs: number;
  tokensPerSecond: number;
  latencyMs: number;
}

export interface Organisation {
  id: string;
  protocol: VendorProtocol;
  limits: Limits;
  models: ReadonlyMap<string, ModelSettings>;
  timing: AnswerTiming;
  /** Mutable: replaced on every request that spends from the buckets. */
  limiter: LimiterState;
}

export interface KeyOwner {
  organisation: Organisation;
  keyName: string;
}

export interface OrganisationRegistry {
  byKey(key: string): KeyOwner | undefined;
  byId(id: string): Organisation | undefined;
  readonly all: readonly Organisation[];
}

const DEFAULT_MODELS: Record<VendorProtocol, readonly string[]> = {
  openai: ['gpt-4o', 'gpt-4o-mini', 'gpt-4.1', 'text-embedding-3-small', 'text-embedding-3-large'],
  anthropic: ['claude-sonnet-4-5', 'claude-haiku-4-5', 'claude-sonnet-4-6'],
};
const DEFAULT_CONTEXT_TOKENS: Record<VendorProtocol, number> = { openai: 128_000, anthropic: 200_000 };

function modelSettings(model: ModelConfig, protocol: VendorProtocol): ModelSettings {
  const config = typeof model === 'string' ? { id: model } : model;
  return {
    id: config.id,
    contextTokens: config.contextTokens ?? DEFAULT_CONTEXT_TOKENS[protocol],
    embeddingDimensions: config.embeddingDimensions ?? (config.id.includes('large') ? 3072 : 1536),
  };
}

function organisationOf(config: OrganisationConfig, defaults: FakeVendorConfig['defaults'], nowMs: number): Organisation {
  const models = (config.models ?? DEFAULT_MODELS[config.protocol]).map((m) => modelSettings(m, config.protocol));
  const limits = { rpm: config.rpm, tpm: config.tpm };
  return {
    id: config.id,
    protocol: config.protocol,
    limits,
    models: new Map(models.map((m) => [m.id, m])),
    timing: {
      ttftMs: config.ttftMs ?? defaults.ttftMs,
      tokensPerSecond: config.tokensPerSecond ?? defaults.tokensPerSecond,
      latencyMs: config.latencyMs ?? defaults.latencyMs,
    },
    limiter: initialLimiterState(limits, nowMs),
  };
}

export function createOrganisationRegistry(config: FakeVendorConfig, nowMs: number): OrganisationRegistry {
  const all = config.organisations.map((o) => organisationOf(o, config.defaults, nowMs));
  const byId = new Map(all.map((o) => [o.id, o]));
  const byKey = new Map<string, KeyOwner>();
  config.organisations.forEach((o, i) => {
    const organisation = all[i];
    if (organisation !== undefined) for (const k of o.keys) byKey.set(k.key, { organisation, keyName: k.name });
  });
  return { byKey: (key) => byKey.get(key), byId: (id) => byId.get(id), all };
}
