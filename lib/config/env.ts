import { z } from 'zod';
import { describeZodIssues, ConfigError } from './load';

/** The environment a worker or gateway process reads at start-up (and nothing else reads process.env). */
/** An unset or empty variable is absent. */
const optionalText = z.preprocess((v) => (v === '' ? undefined : v), z.string().min(1).optional());

export const RuntimeEnv = z.object({
  /** Path of the YAML/JSON config file. */
  SB_CONFIG: z.string().min(1).default('config/switchboard.local.yaml'),
  /** How often the config file (and its key files) are checked besides file events, in ms; 0 = events only. Default 5000. */
  SB_CONFIG_POLL_MS: z.coerce.number().int().min(0).default(5_000),
  /** KV bucket of a cluster-wide config pushed with `switchboard config push`; when set, its document replaces the file's. Default off. */
  SB_CONFIG_BUCKET: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .optional(),
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  /** mTLS client certificate (PEM file path); set with TEMPORAL_TLS_KEY. Temporal Cloud or a TLS cluster. */
  TEMPORAL_TLS_CERT: optionalText,
  /** mTLS client private key (PEM file path). */
  TEMPORAL_TLS_KEY: optionalText,
  /** CA of the server's certificate (PEM file path); default the system's roots. */
  TEMPORAL_TLS_CA: optionalText,
  /** Name to check the server's certificate against (SNI), when it differs from the address's host. */
  TEMPORAL_TLS_SERVER_NAME: optionalText,
  /** `true`: TLS without a client certificate (e.g. with an API key). Implied by the variables above and TEMPORAL_API_KEY. */
  TEMPORAL_TLS: z
    .enum(['true', 'false', ''])
    .optional()
    .transform((v) => v === 'true'),
  /** Temporal Cloud API key (sent as a bearer token over TLS). A secret: from a Kubernetes Secret. */
  TEMPORAL_API_KEY: optionalText,
  NATS_URL: z.string().min(1).default('nats://127.0.0.1:4222'),
  /** Copies JetStream keeps of every stream and KV bucket Switchboard creates: 1 for one nats-server, 3 for a three-node cluster. Default 1. */
  SB_NATS_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  SB_TASK_QUEUE: z.string().min(1).default('switchboard'),
  /** Pre-bundled workflow code (`npm run build` makes one); default: bundle at start-up. */
  SB_WORKFLOW_BUNDLE: z.string().min(1).optional(),
  /** KV bucket of the operator switches (failover). */
  SB_CONTROL_BUCKET: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('sb_control'),
  /** Breaker cluster name: scopes the breaker KV bucket and supervisor ids (tests, side-by-side deployments); default none. */
  SB_CLUSTER: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .optional(),
  /** Gateway HTTP port. Default 8080. */
  /** Worker: port of /healthz, /readyz and /metrics; off when unset. */
  SB_HEALTH_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
  SB_GATEWAY_PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  /** Gateway listen address. Default 127.0.0.1. */
  SB_GATEWAY_HOST: z.string().min(1).default('127.0.0.1'),
  /** Run a Switchboard worker inside the gateway process, sharing its Temporal connection (eager workflow start). Default true. */
  SB_GATEWAY_WORKER: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  /**
   * With the in-process worker: hand a call's answer to its request as soon as it is in the attempt journal and recorded
   * (true, default), or only once Temporal has stored the call's completion (false). lib/call/answer-handoff.ts.
   */
  SB_ANSWER_HANDOFF: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  /** Temporal payloads: `aes-256-gcm` (default; needs SB_PAYLOAD_KEYS or SB_PAYLOAD_KEYS_FILE) or `off` (in clear). */
  SB_PAYLOAD_CODEC: z.enum(['aes-256-gcm', 'off']).default('aes-256-gcm'),
  /** Payload keys, `id:base64` (32 bytes) separated by commas; the first encrypts, all decrypt. A secret. */
  SB_PAYLOAD_KEYS: optionalText,
  /** A file of payload keys (same entries, one per line): a mounted Secret. */
  SB_PAYLOAD_KEYS_FILE: optionalText,
  /** Bearer token of the codec server (`/codec/encode`, `/codec/decode` on the gateway); unset = no codec server. A secret. */
  SB_CODEC_TOKEN: optionalText,
  /** Origins (comma-separated) allowed to call the codec server from a browser: the Temporal UI's. Default none. */
  SB_CODEC_CORS_ORIGINS: optionalText,
  /** Overrides the config's `logging.verbosity` (debugging); default: the verbosity decides. */
  LOG_LEVEL: z.preprocess((v) => (v === '' ? undefined : v), z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional()),
});
export type RuntimeEnv = z.infer<typeof RuntimeEnv>;

export function readRuntimeEnv(env: NodeJS.ProcessEnv = process.env): RuntimeEnv {
  const parsed = RuntimeEnv.safeParse(env);
  if (!parsed.success) throw new ConfigError(`invalid environment:\n  ${describeZodIssues(parsed.error)}`);
  return parsed.data;
}
