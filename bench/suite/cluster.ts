/**
 * Part `cluster` (run only when asked: `--parts cluster`, `make bench
 * PARTS=cluster`): part 1's overhead figures on the production topology. The
 * cluster stack (services/cluster-stack: three nats-servers in one JetStream
 * cluster with three copies of every stream and bucket, a Temporal server on
 * PostgreSQL, two workers, two gateways) runs the bench's Switchboard config
 * against the bench's fake vendor; the same closed loop as part 1 goes
 * straight to the vendor, through the floor workflow on the cluster's
 * Temporal server, and through one of the cluster's gateways.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPidFile } from '../../services/local-stack/processes';
import { readClusterStackEnv } from '../../services/cluster-stack/settings';
import { startClusterStack, stopClusterStack } from '../../services/cluster-stack/stack';
import { startFloor } from './floor';
import { directSpec, measureOverhead, type OverheadTarget, type OverheadTargetSpec } from './overhead';
import { stopService } from './services';
import { benchSwitchboardConfig, TENANT_KEY, type BenchStack } from './stack';

export interface ClusterResult {
  concurrency: number[];
  /** What ran, for the report. */
  topology: string;
  targets: OverheadTarget[];
}

/** Processes of the cluster whose CPU and memory count against the path through it (PostgreSQL: its postmaster only). */
const CLUSTER_PROCESSES = ['gateway-1', 'worker-1', 'worker-2', 'temporal-server', 'postgres', 'nats-1', 'nats-2', 'nats-3'];

/** The data folder of a cluster this part started and has not stopped yet. */
let running: string | undefined;

/** Stops the cluster the part started, if any (the suite's SIGINT/SIGTERM handler). */
export async function stopBenchCluster(): Promise<void> {
  if (running) await stopClusterStack(running);
}

export async function measureCluster(
  s: BenchStack,
  o: { concurrency: number[]; warmupMs: number; durationMs: number; switchboardDurationMs: number; switchboardMaxDurationMs: number },
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<ClusterResult> {
  // PostgreSQL runs as its own user and must reach its data folder inside (a run's folder is private).
  const dataDir = mkdtempSync(join(tmpdir(), 'sb-bench-cluster-'));
  chmodSync(dataDir, 0o755);
  running = dataDir;
  let measured = false;
  const configPath = join(s.runDir, 'cluster-switchboard.json');
  writeFileSync(configPath, JSON.stringify(benchSwitchboardConfig(s.vendorUrl), null, 2));
  const clusterEnv = readClusterStackEnv({ ...env, SB_CLUSTER_DATA_DIR: dataDir, SB_CONFIG: configPath });
  log(`starting the cluster stack on ports from ${clusterEnv.SB_CLUSTER_PORT_BASE} (SB_CLUSTER_PORT_BASE)`);
  try {
    const cluster = await startClusterStack(clusterEnv, log, { serviceEnv: { ...s.keys, LOG_LEVEL: 'warn' } });
    const floor = await startFloor({ temporalAddress: cluster.temporalAddress, vendorUrl: s.vendorUrl, vendorKey: s.keys.OPENAI_ORG_A_KEY!, runDir: s.runDir });
    try {
      const vendorProcess = { name: 'fake-vendor', pid: s.vendor.pid, own: false };
      const clusterProcesses = CLUSTER_PROCESSES.flatMap((name) => {
        const record = readPidFile(cluster.pidFile(name));
        return record ? [{ name, pid: record.pid, own: true }] : [];
      });
      const server = clusterProcesses.filter((p) => p.name === 'temporal-server' || p.name === 'postgres');
      const specs: OverheadTargetSpec[] = [
        directSpec({ vendorUrl: s.vendorUrl, apiKey: s.keys.OPENAI_ORG_A_KEY!, vendorPid: s.vendor.pid, durationMs: o.durationMs }),
        {
          target: { name: 'floor', baseURL: `${floor.url}/v1`, apiKey: 'unused', model: 'gpt-4o-mini' },
          description: "openai SDK → one eagerly started workflow with one local activity (the cluster's Temporal server on PostgreSQL) → fake vendor",
          processes: [{ name: 'floor', pid: floor.service.pid, own: true }, ...server, vendorProcess],
          durationMs: o.switchboardDurationMs,
          maxDurationMs: o.switchboardMaxDurationMs,
        },
        {
          target: { name: 'switchboard', baseURL: `${cluster.gatewayUrls[0]}/v1`, apiKey: TENANT_KEY, model: 'chat-default' },
          description: "openai SDK → the cluster's gateway-1 → llmCall workflow (Temporal server on PostgreSQL, 2 workers, NATS R3) → fake vendor",
          processes: [...clusterProcesses, vendorProcess],
          durationMs: o.switchboardDurationMs,
          maxDurationMs: o.switchboardMaxDurationMs,
        },
      ];
      const targets = await measureOverhead(specs, { concurrency: o.concurrency, warmupMs: o.warmupMs, log });
      measured = true;
      return {
        concurrency: o.concurrency,
        topology: '3 nats-servers (JetStream cluster, 3 copies of every stream and bucket), Temporal server on PostgreSQL, 2 workers, 2 gateways',
        targets,
      };
    } finally {
      await stopService(floor.service);
    }
  } finally {
    await stopClusterStack(dataDir);
    running = undefined;
    // A failed run's cluster logs stay for reading.
    if (measured) rmSync(dataDir, { recursive: true, force: true });
    else log(`the cluster's logs are kept in ${join(dataDir, 'logs')}`);
  }
}
