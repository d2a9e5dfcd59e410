import { z } from 'zod';
import { ChainSpec } from './chain';
import { DrillConfig } from './drill-config';
import { BreakerPolicy, HealthPolicy, SelectionPolicy } from './health';
import { GatewayConfig } from './gateway';
import { InteractionsConfig } from './interaction-store';
import { InsightsConfig } from './insights';
import { CacheConfig, OutputValidation, PiiConfig } from './validation';

const id = z.string().min(1).max(100).regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only');
const durationMs = z.number().int().nonnegative();

export const Protocol = z.enum(['openai', 'anthropic']);
export type Protocol = z.infer<typeof Protocol>;

/** One credential at one vendor: its own rate limits, its own breaker. */
export const UpstreamConfig = z.object({
  /** Unique within the provider; the upstream's id is `<provider>/<name>`. */
  name: id,
  /** Environment variable holding the API key (secrets never live in the file). Set this or `apiKeyFile`. */
  apiKeyEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name (A-Z, 0-9, _)').optional(),
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
  webhookUrlEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name (A-Z, 0-9, _)').optional(),
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

export const SwitchboardConfig = z
  .object({
    providers: z.record(id, ProviderConfig),
    routes: z.record(z.string().min(1), RouteConfig),
    prompts: z.record(id, PromptConfig).default({}),
    retry: RetryConfig.default(RetryConfig.parse({})),
    timeouts: TimeoutConfig.default(TimeoutConfig.parse({})),
    /** Price per model (key: model name), for CallEvent and interaction costs. */
    prices: z.record(z.string(), ModelPrice).default({}),
    /** Health fold and trip thresholds (defaults in schemas/health.ts, docs/breakers.md). */
    health: HealthPolicy.default(HealthPolicy.parse({})),
    /** Breaker timings: cooldowns and half-open probes. */
    breaker: BreakerPolicy.default(BreakerPolicy.parse({})),
    /** How selection scores upstreams by headroom and latency. */
    selection: SelectionPolicy.default(SelectionPolicy.parse({})),
    notifications: NotificationConfig.default(NotificationConfig.parse({})),
    /** The HTTP gateway: tenants and their hashed keys, body cap, deadline, admission limits, stream settings per route. */
    gateway: GatewayConfig.default(GatewayConfig.parse({})),
    /** Per-feature settings (the request's `feature`): output validation by content kind. */
    features: z.record(id, z.object({ validation: OutputValidation.optional() })).default({}),
    /** PII masking before any vendor sees a prompt. Default on, every built-in kind, logs masked. */
    pii: PiiConfig.default(PiiConfig.parse({})),
    /** Response cache; the exact cache is opt-in (default off) so sampling routes keep their variety. */
    cache: CacheConfig.default(CacheConfig.parse({ exact: { enabled: false } })),
    /** Agent chains by name (schemas/chain.ts, docs/chains.md). Default none. */
    chains: z.record(id, ChainSpec).default({}),
    /** Fallback drills: a Schedule sends sample prompts through every route entry (docs/breakers.md). Default on, every 6h. */
    drills: DrillConfig.default(DrillConfig.parse({})),
    /** Interaction records: the optional PostgreSQL projection (schemas/interaction-store.ts), off by default. */
    interactions: InteractionsConfig.default(InteractionsConfig.parse({})),
    /** The insights job: schedule, period, clustering, optional LLM naming and webhook (schemas/insights.ts, docs/interactions.md). */
    insights: InsightsConfig.default(InsightsConfig.parse({})),
    /** CallEvents, interaction records and feedback wait in this outbox while NATS is away (docs/deploy.md). */
    outbox: OutboxConfig.default(OutboxConfig.parse({})),
    /** Log verbosity (minimal | standard | extended). */
    logging: LoggingConfig.default(LoggingConfig.parse({})),
  })
  .superRefine((config, ctx) => {
    for (const [routeName, route] of Object.entries(config.routes)) {
      route.entries.forEach((entry, index) => {
        const provider = config.providers[entry.provider];
        if (!provider) {
          ctx.addIssue({
            code: 'custom',
            path: ['routes', routeName, 'entries', index, 'provider'],
            message: `unknown provider "${entry.provider}" (known: ${Object.keys(config.providers).join(', ')})`,
          });
        } else if (!provider.upstreams.some((u) => !u.models || u.models.includes(entry.model))) {
          ctx.addIssue({
            code: 'custom',
            path: ['routes', routeName, 'entries', index, 'model'],
            message: `no upstream of "${entry.provider}" serves model "${entry.model}" (each lists its models)`,
          });
        }
        if (entry.prompt && !config.prompts[entry.prompt]) {
          ctx.addIssue({
            code: 'custom',
            path: ['routes', routeName, 'entries', index, 'prompt'],
            message: `unknown prompt "${entry.prompt}" (known: ${Object.keys(config.prompts).join(', ') || 'none'})`,
          });
        }
      });
    }
    for (const [chainName, chain] of Object.entries(config.chains)) {
      const routes = [chain.route, ...chain.steps.map((step) => step.route)];
      routes.forEach((route, index) => {
        if (route !== undefined && !config.routes[route]) {
          ctx.addIssue({
            code: 'custom',
            path: ['chains', chainName, ...(index === 0 ? ['route'] : ['steps', index - 1, 'route'])],
            message: `unknown route "${route}" (known: ${Object.keys(config.routes).join(', ')})`,
          });
        }
      });
    }
    const naming = config.insights.naming;
    if (naming.enabled && (!naming.route || !config.routes[naming.route])) {
      ctx.addIssue({
        code: 'custom',
        path: ['insights', 'naming', 'route'],
        message: naming.route ? `unknown route "${naming.route}" (known: ${Object.keys(config.routes).join(', ')})` : 'a route is required when naming is enabled',
      });
    }
    for (const route of Object.keys(config.drills.routePrompts)) {
      if (!config.routes[route]) {
        ctx.addIssue({ code: 'custom', path: ['drills', 'routePrompts', route], message: `unknown route "${route}" (known: ${Object.keys(config.routes).join(', ')})` });
      }
    }
    for (const route of Object.keys(config.gateway.admission.queues)) {
      if (!config.routes[route]) {
        ctx.addIssue({ code: 'custom', path: ['gateway', 'admission', 'queues', route], message: `unknown route "${route}" (known: ${Object.keys(config.routes).join(', ')})` });
      }
    }
    for (const [providerName, provider] of Object.entries(config.providers)) {
      const seen = new Set<string>();
      provider.upstreams.forEach((upstream, index) => {
        if (seen.has(upstream.name)) {
          ctx.addIssue({ code: 'custom', path: ['providers', providerName, 'upstreams', index, 'name'], message: `duplicate upstream "${upstream.name}"` });
        }
        seen.add(upstream.name);
        if ((upstream.apiKeyEnv === undefined) === (upstream.apiKeyFile === undefined)) {
          ctx.addIssue({ code: 'custom', path: ['providers', providerName, 'upstreams', index, 'apiKeyEnv'], message: 'set exactly one of apiKeyEnv and apiKeyFile' });
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
