/**
 * The production topology for a chaos file: `services/cluster-stack/main.ts
 * up` exactly as `make cluster-up` runs it, on ports of its own and a
 * temporary data dir, and `down` afterwards even when a test failed.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { readPidFile } from '../../services/local-stack/processes';
import { clusterPorts } from '../../services/cluster-stack/settings';

const run = promisify(execFile);
const root = resolve(__dirname, '../..');

export interface ChaosCluster {
  dataDir: string;
  natsUrls: string[];
  gatewayUrls: string[];
  fakeVendorUrl: string;
  /** SIGKILLs the process `cluster-up` recorded under `name` (nats-2, worker-1, gateway-1, …). */
  kill(name: string): void;
  down(): Promise<void>;
}

export async function clusterUp(portBase: number): Promise<ChaosCluster> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sb-chaos-'));
  // PostgreSQL runs as its own user and must reach its data folder inside.
  chmodSync(dataDir, 0o755);
  const env = { ...process.env, SB_CLUSTER_DATA_DIR: dataDir, SB_CLUSTER_PORT_BASE: String(portBase) };
  const stack = (command: string) => run('npx', ['tsx', 'services/cluster-stack/main.ts', command], { cwd: root, env, maxBuffer: 1 << 22 });
  const ports = clusterPorts(portBase);
  const down = async () => {
    await stack('down').catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await stack('up');
  } catch (error) {
    await stack('down').catch(() => undefined);
    throw new Error(`cluster-up failed; its logs are kept in ${dataDir}/logs`, { cause: error });
  }
  return {
    dataDir,
    natsUrls: ports.nats.map((n) => `nats://127.0.0.1:${n.client}`),
    gatewayUrls: ports.gateways.map((p) => `http://127.0.0.1:${p}`),
    fakeVendorUrl: `http://127.0.0.1:${ports.fakeVendor}`,
    kill: (name) => {
      const record = readPidFile(join(dataDir, 'pids', `${name}.pid`));
      if (!record) throw new Error(`no pid file for ${name} in ${dataDir}/pids`);
      process.kill(record.pid, 'SIGKILL');
    },
    down,
  };
}
