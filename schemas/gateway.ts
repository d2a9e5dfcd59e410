/** The gateway section of the Switchboard config: tenants, limits, admission, streaming per route. */
import { z } from 'zod';

const tenantId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only');
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 hex digest (64 lowercase hex characters) of the API key');

/** Limits of one subject (a tenant, an API key, a user in a segment, an anonymous caller, a client IP). Absent = unlimited. */
export const AdmissionLimits = z.object({
  requestsPerMinute: z.number().int().positive().optional(),
  tokensPerMinute: z.number().int().positive().optional(),
  /** In-flight requests at once (e.g. 1 for a chat UI). */
  concurrent: z.number().int().positive().optional(),
});
export type AdmissionLimits = z.infer<typeof AdmissionLimits>;

export const TenantKey = z.object({
  /** Shown in logs instead of the key. */
  name: z.string().min(1),
  /** sha256 of the key: keys themselves never live in the file. `printf %s "$KEY" | sha256sum`. */
  sha256: sha256Hex,
  /** This key's budget; default `gateway.admission.perKey`. */
  limits: AdmissionLimits.optional(),
});
export type TenantKey = z.infer<typeof TenantKey>;

export const TenantConfig = z.object({
  id: tenantId,
  keys: z.array(TenantKey).min(1, 'a tenant needs at least one key'),
  /** Routes the tenant may call; absent = all. */
  routes: z.array(z.string().min(1)).optional(),
  /** The tenant's budget, all its keys and users together; default `gateway.admission.perTenant`. */
  limits: AdmissionLimits.optional(),
});
export type TenantConfig = z.infer<typeof TenantConfig>;

/**
 * A route that queues: a request over its user's limit waits (in line behind
 * that user's earlier ones, in this gateway pod) and is admitted when the
 * limit allows, or rejected with 429 once it would wait longer than `maxWaitMs`.
 */
export const QueuePolicy = z.object({
  /** Longest a request waits in line before it is rejected. Default 30 s. */
  maxWaitMs: z.number().int().positive().max(600_000).default(30_000),
  /** Requests of one user waiting at once per pod; more are rejected at once. Default 100. */
  maxQueuedPerUser: z.number().int().positive().default(100),
});
export type QueuePolicy = z.infer<typeof QueuePolicy>;

export const Segment = z.enum(['untrusted', 'trusted', 'premium', 'allowlisted']);
export type Segment = z.infer<typeof Segment>;

export const AdmissionConfig = z.object({
  /** NATS KV bucket holding the limiter states, shared by every gateway pod. Default `sb_admission`. */
  bucket: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('sb_admission'),
  /** Users seen for the first time less than this many days ago are `untrusted`. Default 7. */
  untrustedDays: z.number().nonnegative().default(7),
  /** Users (`<tenant>/<user>` or `<user>`) with the premium segment. */
  premiumUsers: z.array(z.string()).default([]),
  /** Users never limited. */
  allowList: z.array(z.string()).default([]),
  segments: z
    .object({
      untrusted: AdmissionLimits.default({ requestsPerMinute: 20, tokensPerMinute: 20_000, concurrent: 2 }),
      trusted: AdmissionLimits.default({ requestsPerMinute: 60, tokensPerMinute: 100_000, concurrent: 4 }),
      premium: AdmissionLimits.default({ requestsPerMinute: 600, tokensPerMinute: 1_000_000, concurrent: 16 }),
    })
    .default({
      untrusted: { requestsPerMinute: 20, tokensPerMinute: 20_000, concurrent: 2 },
      trusted: { requestsPerMinute: 60, tokensPerMinute: 100_000, concurrent: 4 },
      premium: { requestsPerMinute: 600, tokensPerMinute: 1_000_000, concurrent: 16 },
    }),
  /** Per client IP, whatever the user. Default unlimited. */
  perIp: AdmissionLimits.default({}),
  /** Every tenant's budget (all its keys and users together) unless the tenant sets `limits`. */
  perTenant: AdmissionLimits.default({ requestsPerMinute: 3_000, tokensPerMinute: 5_000_000, concurrent: 200 }),
  /** Every API key's budget unless the key sets `limits`. */
  perKey: AdmissionLimits.default({ requestsPerMinute: 1_200, tokensPerMinute: 2_000_000, concurrent: 100 }),
  /** A request without a user: limited as the anonymous subject of its API key (per client IP when `trustProxy` is set). */
  anonymous: AdmissionLimits.default({ requestsPerMinute: 60, tokensPerMinute: 100_000, concurrent: 8 }),
  /**
   * Where the client IP comes from behind a proxy: the `hops`-th address from
   * the right of `header` (the one the outermost trusted proxy saw). Absent:
   * the socket's peer, and anonymous callers of a key share one budget.
   */
  trustProxy: z.object({ header: z.string().min(1).toLowerCase().default('x-forwarded-for'), hops: z.number().int().positive().default(1) }).optional(),
  /** How long an in-flight slot lives without renewal; a live request renews it every third of this, so a dead pod's slots free within it. Default 5 s. */
  leaseTtlMs: z.number().int().min(1_000).max(120_000).default(5_000),
  /**
   * When the NATS KV holding the shared limits does not answer: `open` admits
   * with a per-pod limiter of the same limits (so up to limits × pods until
   * NATS is back), `closed` answers 503 naming NATS with a retry-after. Default open.
   */
  onNatsUnavailable: z.enum(['open', 'closed']).default('open'),
  /** A KV operation slower than this counts as NATS unavailable. Default 1 s. */
  natsTimeoutMs: z.number().int().positive().default(1_000),
  /** Rejections within a minute after which a user's limits are halved (abuse); they recover as rejections decay. Default 20. */
  abuseRejectionsPerMinute: z.number().int().positive().default(20),
  /** Routes whose excess requests wait in line instead of being rejected (batch traffic). Default none. */
  queues: z.record(z.string().min(1), QueuePolicy).default({}),
});
export type AdmissionConfig = z.infer<typeof AdmissionConfig>;

export const RouteStreamConfig = z.object({
  /**
   * `relay`: deltas go out as they come; a failure after the first token ends the stream with an error event and no `[DONE]`.
   * `buffer`: the answer goes out only once the call succeeded (failover stays invisible; no early tokens). Default relay.
   */
  mode: z.enum(['relay', 'buffer']).default('relay'),
  /** Abandon an upstream whose first token is later than this (then fail over). Default 10 s. */
  firstTokenTimeoutMs: z.number().int().positive().default(10_000),
  /** Abandon a stream silent for this long after its first token. Default 15 s. */
  stallTimeoutMs: z.number().int().positive().default(15_000),
  /**
   * A relayed stream that breaks after its first token: `resume` — the next
   * attempt continues it, and only an answer that begins with the text
   * already sent is streamed on (one coherent stream; a diverging answer ends
   * it with an error, never spliced); `error` — the stream ends with an error
   * event at once. Default resume.
   */
  midStream: z.enum(['resume', 'error']).default('resume'),
});
export type RouteStreamConfig = z.infer<typeof RouteStreamConfig>;

/** The adaptive limit on a pod's calls in flight (lib/admission/adaptive-limit.ts); `shedding.maxInFlight` is its ceiling. */
export const AdaptiveLimitConfig = z
  .object({
    /** Default true. */
    enabled: z.boolean().default(true),
    /** The limit a pod starts with. Default 100. */
    initialLimit: z.number().int().positive().default(100),
    /**
     * The limit never shrinks below this: calls in flight a pod always admits, however long they queue. Default 10. A pod
     * whose clients run closed loops larger than this against a saturated stack (a batch job without retries) and want
     * them queued rather than refused sets it higher.
     */
    minLimit: z.number().int().positive().default(10),
    /** Overload: an interval's calls waited, in median, this much longer than without load before a worker started them. Default 250 ms. */
    queueDelayMs: z.number().int().min(10).max(600_000).default(250),
    /** The limit is revised at most this often. Default 1 s. */
    intervalMs: z.number().int().min(100).max(60_000).default(1_000),
  })
  .refine((a) => a.minLimit <= a.initialLimit, { message: 'minLimit must not exceed initialLimit', path: ['minLimit'] });
export type AdaptiveLimitConfig = z.infer<typeof AdaptiveLimitConfig>;

/** Load shedding (lib/admission/load-shedding.ts): refuse early what would queue, or could not be answered within its deadline. */
export const SheddingConfig = z.object({
  /** Default true. */
  enabled: z.boolean().default(true),
  /** Refuse when the estimated time to answer exceeds this share of the deadline. Default 0.5. */
  shareOfDeadline: z.number().gt(0).max(1).default(0.5),
  /** Calls in flight per gateway pod at most. Default 1000. */
  maxInFlight: z.number().int().positive().default(1_000),
  /** The window over which the completion rate is measured. Default 10 s. */
  windowMs: z.number().int().min(1_000).max(300_000).default(10_000),
  adaptiveLimit: AdaptiveLimitConfig.default(AdaptiveLimitConfig.parse({})),
});
export type SheddingConfig = z.infer<typeof SheddingConfig>;

export const GatewayConfig = z.object({
  tenants: z.array(TenantConfig).default([]),
  /** Largest accepted request body. Default 1 MiB. */
  maxBodyBytes: z.number().int().positive().default(1_048_576),
  /** Headers and body must arrive within this, else 408 (a body that trickles in). Read at start-up. Default 30 s. */
  requestTimeoutMs: z.number().int().min(1_000).max(600_000).default(30_000),
  /** Bounds every request, all attempts included. Default 120 s. */
  deadlineMs: z.number().int().positive().max(3_600_000).default(120_000),
  admission: AdmissionConfig.default(AdmissionConfig.parse({})),
  shedding: SheddingConfig.default(SheddingConfig.parse({})),
  /** Stream settings for routes not named in `streams`. */
  streamDefaults: RouteStreamConfig.default(RouteStreamConfig.parse({})),
  /** Stream settings per route name. */
  streams: z.record(z.string().min(1), RouteStreamConfig).default({}),
});
export type GatewayConfig = z.infer<typeof GatewayConfig>;
export type GatewayConfigInput = z.input<typeof GatewayConfig>;

/** The stream settings of `route`. */
export function routeStreamConfig(gateway: GatewayConfig, route: string): RouteStreamConfig {
  return gateway.streams[route] ?? gateway.streamDefaults;
}
