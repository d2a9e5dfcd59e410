import { z } from 'zod';

const port = (fallback: number) => z.coerce.number().int().min(1).max(65535).default(fallback);

/** Environment of `make up` / `make down`, with the documented defaults. */
export const LocalStackEnv = z.object({
  SB_DATA_DIR: z.string().min(1).default('.data'),
  SB_HOST: z.string().min(1).default('127.0.0.1'),
  TEMPORAL_PORT: port(7233),
  TEMPORAL_UI_PORT: port(8233),
  NATS_PORT: port(4222),
  NATS_MONITOR_PORT: port(8222),
  FAKE_VENDOR_PORT: port(8089),
  SB_GATEWAY_PORT: port(8080),
  /** The Switchboard config the worker and gateway run (`make up SB_CONFIG=my.yaml`). */
  SB_CONFIG: z.string().min(1).default('config/switchboard.local.yaml'),
  /** `auto`: the fake vendor starts only when the config points at it (FAKE_VENDOR_URL); `on`: always; `off`: never. */
  SB_FAKE_VENDOR: z.enum(['auto', 'on', 'off']).default('auto'),
  SB_TEMPORAL_BIN: z.string().optional(),
  SB_NATS_BIN: z.string().optional(),
});
export type LocalStackEnv = z.infer<typeof LocalStackEnv>;

/** Parses the environment; the error names the variable. */
export function readLocalStackEnv(env: NodeJS.ProcessEnv = process.env): LocalStackEnv {
  const parsed = LocalStackEnv.safeParse(env);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid environment for the local stack: ${issues}`);
  }
  return parsed.data;
}
