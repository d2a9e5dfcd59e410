import { z } from 'zod';

/** The highest base whose Temporal membership ports fit PostgreSQL's smallint. */
const MAX_PORT_BASE = 32_767 - 936;

/** Environment of `make cluster-up` / `make cluster-down`. Every port derives from one base. */
export const ClusterStackEnv = z.object({
  SB_CLUSTER_DATA_DIR: z.string().min(1).default('.data/cluster'),
  /**
   * First port of the cluster's range (it uses base … base+999). Default 27000. At most 31831: Temporal's SQL
   * schema keeps membership ports (base+933 … base+936) in a smallint, and the server exits on a port over 32767.
   */
  SB_CLUSTER_PORT_BASE: z.coerce
    .number()
    .int()
    .min(1024)
    .max(MAX_PORT_BASE, `at most ${MAX_PORT_BASE}: Temporal's membership ports (base+933 … base+936) must stay under 32768`)
    .default(27_000),
  /** The Switchboard config the workers and gateways run. Default config/switchboard.local.yaml. */
  SB_CONFIG: z.string().min(1).default('config/switchboard.local.yaml'),
  SB_TEMPORAL_BIN: z.string().min(1).optional(),
  SB_NATS_BIN: z.string().min(1).optional(),
  SB_TEMPORAL_SERVER_BIN: z.string().min(1),
  SB_TEMPORAL_SQL_TOOL_BIN: z.string().min(1),
  SB_TEMPORAL_SCHEMA_DIR: z.string().min(1),
});
export type ClusterStackEnv = z.infer<typeof ClusterStackEnv>;

/** The cluster's ports, all from `SB_CLUSTER_PORT_BASE`. */
export function clusterPorts(base: number) {
  return {
    nats: [0, 1, 2].map((i) => ({ client: base + i, route: base + 10 + i, monitor: base + 20 + i })),
    gateways: [base + 80, base + 81],
    fakeVendor: base + 89,
    temporalFrontend: base + 233,
    temporalMembership: base + 933,
    postgres: base + 432,
    workerHealth: [base + 464, base + 465],
  };
}

export function readClusterStackEnv(env: NodeJS.ProcessEnv = process.env, needBinaries = true): ClusterStackEnv {
  const schema = needBinaries
    ? ClusterStackEnv
    : ClusterStackEnv.partial({ SB_TEMPORAL_SERVER_BIN: true, SB_TEMPORAL_SQL_TOOL_BIN: true, SB_TEMPORAL_SCHEMA_DIR: true });
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new Error(`invalid environment for the cluster stack: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data as ClusterStackEnv;
}
