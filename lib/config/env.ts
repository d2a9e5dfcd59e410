import { z } from 'zod';
import { describeZodIssues, ConfigError } from './load';

/** The environment a worker or gateway process reads at start-up (and nothing else reads process.env). */
export const RuntimeEnv = z.object({
  /** Path of the YAML/JSON config file. */
  SB_CONFIG: z.string().min(1).default('config/switchboard.local.yaml'),
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  NATS_URL: z.string().min(1).default('nats://127.0.0.1:4222'),
  SB_TASK_QUEUE: z.string().min(1).default('switchboard'),
  /** Pre-bundled workflow code (`npm run build` makes one); default: bundle at start-up. */
  SB_WORKFLOW_BUNDLE: z.string().min(1).optional(),
  /** KV bucket of the operator switches (failover). */
  SB_CONTROL_BUCKET: z.string().regex(/^[A-Za-z0-9_-]+$/).default('sb_control'),
  /** Breaker cluster name: scopes the breaker KV bucket and supervisor ids (tests, side-by-side deployments); default none. */
  SB_CLUSTER: z.string().regex(/^[A-Za-z0-9_-]+$/).optional(),
  /** Gateway HTTP port. Default 8080. */
  /** Worker: port of /healthz, /readyz and /metrics; off when unset. */
  SB_HEALTH_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
  SB_GATEWAY_PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  /** Gateway listen address. Default 127.0.0.1. */
  SB_GATEWAY_HOST: z.string().min(1).default('127.0.0.1'),
  /** Run a Switchboard worker inside the gateway process, sharing its Temporal connection (eager workflow start). Default true. */
  SB_GATEWAY_WORKER: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});
export type RuntimeEnv = z.infer<typeof RuntimeEnv>;

export function readRuntimeEnv(env: NodeJS.ProcessEnv = process.env): RuntimeEnv {
  const parsed = RuntimeEnv.safeParse(env);
  if (!parsed.success) throw new ConfigError(`invalid environment:\n  ${describeZodIssues(parsed.error)}`);
  return parsed.data;
}
