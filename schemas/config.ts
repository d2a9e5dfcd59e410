import { z } from 'zod';
import { ChainSpec } from './chain';
import { DrillConfig } from './drill-config';
import { BreakerPolicy, HealthPolicy, SelectionPolicy } from './health';
import { GatewayConfig } from './gateway';
import { InteractionsConfig } from './interaction-store';
import { InsightsConfig } from './insights';
import { CacheConfig, OutputValidation, PiiConfig } from './validation';
import { embeddingRouteIssues } from './embedding-routes';

/** A settings object that may be left out: its default is what its own defaults make of `{}` (or of `input`). */
function defaulted<T extends z.ZodObject>(schema: T, input: z.input<T> = {} as z.input<T>) {
  return schema.default(schema.parse(input) as z.util.NoUndefined<z.output<T>>);
}

const id = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only');
const durationMs = z.number().int().nonnegative();

export const Protocol = z.enum(['openai', 'anthropic']);
export type Protocol = z.infer<typeof Protocol>;

/** One credential at one vendor: its own rate limits, its own breaker. */
export const UpstreamConfig = z.object({
  /** Unique within the provider; the upstream's id is `<provider>/<name>`. */
  name: id,
  /** Environment variable holding the API key (secrets never live in the file). Set this or `apiKeyFile`. */
  apiKeyEnv: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name (A-Z, 0-9, _)')
    .optional(),
  /** File holding the API key (e.g. a mounted Kubernetes Secret), re-read on every config reload so a key rotates without a restart. */
  apiKeyFile: z.string().min(1).optional(),
  /** OpenAI `OpenAI-Organization` header, when a key serves several organisations. */
  organization: z.string().optional(),
  /** Overrides the provider's base URL. */
  baseUrl: z.url().optional(),
  /** Requests per minute the vendor grants this credential (for headroom; optional). */
  rpm: z.number().int().positive().optional(),
  /** Tokens per minute the vendor grants this credential. */
  tpm: z.number().int().positive().optional(),
  /** Share of traffic relative to the pool's other upstreams. Default 1. */
  weight: z.number().positive().default(1),
  /**
   * Models this credential may use (an organisation without access to the
   * large model, say); it is picked only for route entries naming one of
   * them. Default: every model of the provider.
   */
  models: z.array(z.string().min(1)).min(1).optional(),
});
export type UpstreamConfig = z.infer<typeof UpstreamConfig>;

export const ProviderConfig = z.object({
  protocol: Protocol,
  /** Default base URL for the pool (OpenAI: ending in /v1). */
  baseUrl: z.url().optional(),
  upstreams: z.array(UpstreamConfig).min(1, 'a provider needs at least one upstream'),
});
export type ProviderConfig = z.infer<typeof ProviderConfig>;

/** A system prompt and instructions for one vendor. */
export const PromptVariant = z.object({
  system: z.string().optional(),
  /** Appended to the last user message. */
  instructions: z.string().optional(),
});
export type PromptVariant = z.infer<typeof PromptVariant>;

/** A logical prompt: a default variant plus per-provider overrides, because vendors read prompts differently. */
export const PromptConfig = z.object({
  default: PromptVariant,
  providers: z.record(z.string(), PromptVariant).default({}),
});
export type PromptConfig = z.infer<typeof PromptConfig>;

export const RouteEntry = z.object({
  provider: id,
  model: z.string().min(1),
  /** Key into `prompts`; the provider's variant of it is used. */
  prompt: id.optional(),
  /** Context window of the model, so a context-length failure can move to a larger entry. */
  contextTokens: z.number().int().positive().optional(),
  /**
   * Embedding models: the vector size this entry answers. Declaring it (or
   * the route's `embeddingDimensions`) makes the route an embeddings route,
   * checked at load: one size for every entry, no Anthropic entry.
   */
  dimensions: z.number().int().positive().max(65_536).optional(),
});
export type RouteEntry = z.infer<typeof RouteEntry>;

export const RouteConfig = z.object({
  /** Primary first, fallbacks after. */
  entries: z.array(RouteEntry).min(1, 'a route needs at least one entry'),
  /** Overrides `timeouts.attemptMs` for this route. */
  attemptTimeoutMs: durationMs.optional(),
  /** Overrides `retry.shortRetryAfterMs` for this route. */
  shortRetryAfterMs: durationMs.optional(),
  /** Checks every answer of this route (a feature's own `validation` wins). Default none. */
  validation: OutputValidation.optional(),
  /** This route's cache settings; replaces the top-level `cache` for it. */
  cache: CacheConfig.optional(),
  /**
   * Embedding routes (`POST /v1/embeddings`): the vector size every entry is
   * asked for. A route whose entries name more than one provider needs it, or
   * every entry's `dimensions` at one size — a fallback to another vendor's
   * embedding model is allowed only where the route says the sizes match
   * (vectors of another size are useless to an index built with these).
   */
  embeddingDimensions: z.number().int().positive().max(65_536).optional(),
});
export type RouteConfig = z.infer<typeof RouteConfig>;

export const RetryConfig = z.object({
  /** Attempts on one route entry (its provider's pool) before falling back. Default 3. */
  maxAttemptsPerEntry: z.number().int().positive().default(3),
  /** Attempts for the whole call, over every entry. Default 10. */
  maxAttempts: z.number().int().positive().default(10),
  /** First backoff step. Default 200 ms. */
  initialIntervalMs: durationMs.default(200),
  /** Backoff cap. Default 5 s. */
  maxIntervalMs: durationMs.default(5_000),
  /** Growth per attempt. Default 2. */
  backoffCoefficient: z.number().min(1).default(2),
  /** Longest `retry-after` worth waiting for when no other upstream or fallback is left. Default 30 s. */
  maxRetryAfterWaitMs: durationMs.default(30_000),
  /**
   * A 429 whose `retry-after` is at most this (and fits the call's deadline) is waited out once on the same
   * vendor before falling back, so a short wait keeps the caller on the model they asked for; longer ones fall
   * back at once. 0 turns it off. Default 3 s; a route may set its own (`routes.<r>.shortRetryAfterMs`).
   */
  shortRetryAfterMs: durationMs.default(3_000),
  /**
   * Per failure class, how many more times one upstream is tried in one call after failing that way:
   * `silent` (no response headers or no first token in time), `stall` (a stream that stopped). Default 0 for
   * both: the next upstream or route entry at once — retrying a silent upstream only multiplies the wait.
   * Transient failures (5xx, resets) follow the backoff and `maxAttemptsPerEntry`.
   */
  sameUpstreamRetries: z.object({ silent: z.number().int().min(0).default(0), stall: z.number().int().min(0).default(0) }).default({ silent: 0, stall: 0 }),
});
export type RetryConfig = z.infer<typeof RetryConfig>;

export const TimeoutConfig = z.object({
  /** One vendor request (the SDK's timeout). Default 30 s. */
  attemptMs: durationMs.default(30_000),
  /** A whole call unless the request sets `deadlineMs`. Default 120 s. */
  callMs: durationMs.default(120_000),
  /** Heartbeat timeout of the attempt activity: how fast a dead worker's attempt is retried. Default 5 s. */
  heartbeatMs: durationMs.default(5_000),
});
export type TimeoutConfig = z.infer<typeof TimeoutConfig>;

/** USD per million tokens. */
/** The in-memory outbox every process publishes JetStream records through (lib/nats/outbox.ts). */
export const OutboxConfig = z.object({
  /** How long a record waits for NATS before it is dropped (counted in sb_outbox_dropped_total). At most the streams' 120 s duplicate window. Default 120 s. */
  maxHoldMs: z.number().int().min(1_000).max(120_000).default(120_000),
  /** Records queued at most per process; more are dropped at once. Default 100 000. */
  maxMessages: z.number().int().positive().default(100_000),
});
export type OutboxConfig = z.infer<typeof OutboxConfig>;

export const ModelPrice = z.object({ inputPerMTok: z.number().nonnegative(), outputPerMTok: z.number().nonnegative() });
export type ModelPrice = z.infer<typeof ModelPrice>;

/** Where breaker transitions are announced besides `sb.breaker.>`. */
export const NotificationConfig = z.object({
  /** Slack-compatible incoming-webhook URL; off (absent) by default. A secret-bearing URL, so it comes from this env var, not the file. */
  webhookUrlEnv: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name (A-Z, 0-9, _)')
    .optional(),
});
export type NotificationConfig = z.infer<typeof NotificationConfig>;

/**
 * How much the processes log: `minimal` = warnings, errors and breaker/config
 * transitions; `standard` = + one line per attempt; `extended` = + request
 * and response details (prompts as masked, never keys).
 */
export const LoggingConfig = z.object({
  /** Default `standard`. Applied on reload too. */
  verbosity: z.enum(['minimal', 'standard', 'extended']).default('standard'),
});
export type LoggingConfig = z.infer<typeof LoggingConfig>;

/** A setting that names a provider, prompt or route of the same config (`name` undefined: required but missing). */
interface ConfigReference {
  kind: 'provider' | 'prompt' | 'route';
  name: string | undefined;
  path: Array<string | number>;
  /** The message when `name` is missing. */
  missing?: string;
}

type ParsedConfig = z.output<typeof SwitchboardConfigShape>;

/**
 * Every setting that names another part of the config, one line each: the
 * check reports an unknown name with its path and the names it could have
 * been. A new setting that names a route is one more line here.
 */
export const configReferences: Array<(config: ParsedConfig) => ConfigReference[]> = [
  (c) =>
    Object.entries(c.routes).flatMap(([route, r]) =>
      r.entries.map((e, i) => ({ kind: 'provider' as const, name: e.provider, path: ['routes', route, 'entries', i, 'provider'] })),
    ),
  (c) =>
    Object.entries(c.routes).flatMap(([route, r]) =>
      r.entries.flatMap((e, i) => (e.prompt ? [{ kind: 'prompt' as const, name: e.prompt, path: ['routes', route, 'entries', i, 'prompt'] }] : [])),
    ),
  (c) =>
    Object.entries(c.chains).flatMap(([chain, spec]) => [
      ...(spec.route !== undefined ? [{ kind: 'route' as const, name: spec.route, path: ['chains', chain, 'route'] }] : []),
      ...spec.steps.flatMap((step, i) =>
        step.route !== undefined ? [{ kind: 'route' as const, name: step.route, path: ['chains', chain, 'steps', i, 'route'] }] : [],
      ),
    ]),
  (c) =>
    c.insights.naming.enabled
      ? [
          {
            kind: 'route' as const,
            name: c.insights.naming.route,
            path: ['insights', 'naming', 'route'],
            missing: 'a route is required when naming is enabled',
          },
        ]
      : [],
  (c) => Object.keys(c.drills.routePrompts).map((route) => ({ kind: 'route' as const, name: route, path: ['drills', 'routePrompts', route] })),
  (c) => Object.keys(c.gateway.admission.queues).map((route) => ({ kind: 'route' as const, name: route, path: ['gateway', 'admission', 'queues', route] })),
];

const SwitchboardConfigShape = z.object({
  providers: z.record(id, ProviderConfig),
  routes: z.record(z.string().min(1), RouteConfig),
  prompts: z.record(id, PromptConfig).default({}),
  retry: defaulted(RetryConfig),
  timeouts: defaulted(TimeoutConfig),
  /** Price per model (key: model name), for CallEvent and interaction costs. */
  prices: z.record(z.string(), ModelPrice).default({}),
  /** Health fold and trip thresholds (defaults in schemas/health.ts, docs/breakers.md). */
  health: defaulted(HealthPolicy),
  /** Breaker timings: cooldowns and half-open probes. */
  breaker: defaulted(BreakerPolicy),
  /** How selection scores upstreams by headroom and latency. */
  selection: defaulted(SelectionPolicy),
  notifications: defaulted(NotificationConfig),
  /** The HTTP gateway: tenants and their hashed keys, body cap, deadline, admission limits, stream settings per route. */
  gateway: defaulted(GatewayConfig),
  /** Per-feature settings (the request's `feature`): output validation by content kind. */
  features: z.record(id, z.object({ validation: OutputValidation.optional() })).default({}),
  /** PII masking before any vendor sees a prompt. Default on, every built-in kind, logs masked. */
  pii: defaulted(PiiConfig),
  /** Response cache; the exact cache is opt-in (default off) so sampling routes keep their variety. */
  cache: defaulted(CacheConfig, { exact: { enabled: false } }),
  /** Agent chains by name (schemas/chain.ts, docs/chains.md). Default none. */
  chains: z.record(id, ChainSpec).default({}),
  /** Fallback drills: a Schedule sends sample prompts through every route entry (docs/breakers.md). Default on, every 6h. */
  drills: defaulted(DrillConfig),
  /** Interaction records: the optional PostgreSQL projection (schemas/interaction-store.ts), off by default. */
  interactions: defaulted(InteractionsConfig),
  /** The insights job: schedule, period, clustering, optional LLM naming and webhook (schemas/insights.ts, docs/interactions.md). */
  insights: defaulted(InsightsConfig),
  /** CallEvents, interaction records and feedback wait in this outbox while NATS is away (docs/deploy.md). */
  outbox: defaulted(OutboxConfig),
  /** Log verbosity (minimal | standard | extended). */
  logging: defaulted(LoggingConfig),
});

export const SwitchboardConfig = SwitchboardConfigShape.superRefine((config, ctx) => {
  const known = { provider: config.providers, prompt: config.prompts, route: config.routes };
  for (const ref of configReferences.flatMap((referencesIn) => referencesIn(config))) {
    if (ref.name === undefined) ctx.addIssue({ code: 'custom', path: ref.path, message: ref.missing ?? `a ${ref.kind} is required here` });
    else if (!Object.hasOwn(known[ref.kind], ref.name)) {
      ctx.addIssue({
        code: 'custom',
        path: ref.path,
        message: `unknown ${ref.kind} "${ref.name}" (known: ${Object.keys(known[ref.kind]).join(', ') || 'none'})`,
      });
    }
  }
  for (const [routeName, route] of Object.entries(config.routes)) {
    route.entries.forEach((entry, index) => {
      const provider = config.providers[entry.provider];
      if (provider && !provider.upstreams.some((u) => !u.models || u.models.includes(entry.model))) {
        ctx.addIssue({
          code: 'custom',
          path: ['routes', routeName, 'entries', index, 'model'],
          message: `no upstream of "${entry.provider}" serves model "${entry.model}" (each lists its models)`,
        });
      }
    });
  }
  for (const issue of embeddingRouteIssues(config)) ctx.addIssue({ code: 'custom', ...issue });
  for (const [providerName, provider] of Object.entries(config.providers)) {
    const seen = new Set<string>();
    provider.upstreams.forEach((upstream, index) => {
      if (seen.has(upstream.name)) {
        ctx.addIssue({ code: 'custom', path: ['providers', providerName, 'upstreams', index, 'name'], message: `duplicate upstream "${upstream.name}"` });
      }
      seen.add(upstream.name);
      if ((upstream.apiKeyEnv === undefined) === (upstream.apiKeyFile === undefined)) {
        ctx.addIssue({
          code: 'custom',
          path: ['providers', providerName, 'upstreams', index, 'apiKeyEnv'],
          message: 'set exactly one of apiKeyEnv and apiKeyFile',
        });
      }
      if (!upstream.baseUrl && !provider.baseUrl) {
        ctx.addIssue({ code: 'custom', path: ['providers', providerName, 'upstreams', index, 'baseUrl'], message: 'no baseUrl here or on the provider' });
      }
    });
  }
});
export type SwitchboardConfig = z.infer<typeof SwitchboardConfig>;
export type SwitchboardConfigInput = z.input<typeof SwitchboardConfig>;

/** `<provider>/<name>`: the id of an upstream everywhere (events, breakers, KV keys). */
export function upstreamId(provider: string, name: string): string {
  return `${provider}/${name}`;
}
