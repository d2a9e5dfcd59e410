/**
 * The project's own processes on the local stack: the fake vendor and a
 * worker and the gateway (which runs a worker of its own for eager starts). Each runs as `node --import tsx`
 * (one process, so `make down` and a SIGKILL reach the program itself).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isPortOpen, waitFor } from '../../lib/ports';
import { devSecretsEnv, ensureDevSecrets } from './dev-secrets';
import { isOurProcessAlive, readPidFile, spawnDetached, stopRecorded, type PidRecord } from './processes';
import { chooseStackConfig, type FakeVendorMode } from './stack-config';

export const DEFAULT_STACK_CONFIG = 'config/switchboard.local.yaml';

export interface NodeServicesOptions {
  dataDir: string;
  host: string;
  fakeVendorPort: number;
  gatewayPort: number;
  temporalAddress: string;
  natsUrl: string;
  /** The Switchboard config the worker and gateway run. Default config/switchboard.local.yaml. */
  configPath?: string;
  /** `auto` (default): the fake vendor starts only when the config points at it; `on` always; `off` never. */
  fakeVendor?: FakeVendorMode;
  /** The environment handed to the worker and gateway (their keys, ...). Default this process's. */
  env?: NodeJS.ProcessEnv;
  readyTimeoutMs?: number;
  /** Origin of the Temporal UI, allowed to call the codec server. Default none. */
  temporalUiOrigin?: string;
}

const root = resolve(__dirname, '../..');
const NODE_SERVICES = ['fake-vendor', 'worker', 'gateway'] as const;

/** KEY=VALUE lines (comments and blanks ignored): the fake vendor's test keys for the local worker. */
export function readEnvFile(path: string): Record<string, string> {
  if (!existsSync(path)) return {};
  const env: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const match = /^\s*([A-Z_][A-Z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (match) env[match[1]!] = match[2]!;
  }
  return env;
}

export function startNodeProcess(dataDir: string, name: string, script: string, args: string[], env: NodeJS.ProcessEnv): PidRecord {
  const pidFile = join(dataDir, 'pids', `${name}.pid`);
  const existing = readPidFile(pidFile);
  if (existing && isOurProcessAlive(existing)) return existing;
  return spawnDetached({
    name,
    command: process.execPath,
    args: ['--import', 'tsx', script, ...args],
    logFile: join(dataDir, 'logs', `${name}.log`),
    pidFile,
    env,
    cwd: root,
    match: script,
  });
}

export interface NodeServices {
  /** The fake vendor's URL, or undefined when it was not started. */
  fakeVendorUrl?: string;
  gatewayUrl: string;
  /** The config file the worker and gateway run. */
  configPath: string;
  processes: PidRecord[];
}

async function startFakeVendor(dataDir: string, o: NodeServicesOptions, url: string, readyTimeoutMs: number): Promise<PidRecord> {
  const vendorPid = readPidFile(join(dataDir, 'pids', 'fake-vendor.pid'));
  if (!(vendorPid && isOurProcessAlive(vendorPid)) && (await isPortOpen(o.fakeVendorPort, o.host))) {
    throw new Error(`port ${o.fakeVendorPort} is taken by a process this stack did not start; set FAKE_VENDOR_PORT`);
  }
  const vendor = startNodeProcess(
    dataDir,
    'fake-vendor',
    'services/fake-vendor/main.ts',
    ['--config', 'config/fake-vendor.example.yaml', '--port', String(o.fakeVendorPort), '--host', o.host],
    process.env,
  );
  await waitFor(
    'fake vendor',
    async () => {
      if (!isOurProcessAlive(vendor)) throw new Error(`fake vendor exited; see ${vendor.logFile}`);
      return (await fetch(`${url}/_admin/health`)).ok;
    },
    readyTimeoutMs,
  );
  return vendor;
}

export async function startNodeServices(o: NodeServicesOptions): Promise<NodeServices> {
  const dataDir = resolve(o.dataDir);
  const readyTimeoutMs = o.readyTimeoutMs ?? 60_000;
  const baseEnv = o.env ?? process.env;
  const fakeVendorUrl = `http://${o.host}:${o.fakeVendorPort}`;
  const configPath = o.configPath ?? DEFAULT_STACK_CONFIG;
  // Validated here, before anything starts: a bad file stops `make up` naming the field.
  const chosen = chooseStackConfig({ configPath, fakeVendorUrl, mode: o.fakeVendor ?? 'auto', env: baseEnv });
  const vendor = chosen.startFakeVendor ? await startFakeVendor(dataDir, o, fakeVendorUrl, readyTimeoutMs) : undefined;
  // The fake vendor's test keys only when it runs; the caller's own variables win.
  const serviceEnv: NodeJS.ProcessEnv = {
    ...(vendor ? readEnvFile(join(root, 'config/local.env')) : {}),
    ...baseEnv,
    // The data dir's payload key and codec token, unless the caller brings its own.
    ...devSecretsEnv(ensureDevSecrets(dataDir), o.temporalUiOrigin, baseEnv),
    SB_CONFIG: configPath,
    FAKE_VENDOR_URL: fakeVendorUrl,
    TEMPORAL_ADDRESS: o.temporalAddress,
    NATS_URL: o.natsUrl,
  };

  const worker = startNodeProcess(dataDir, 'worker', 'services/worker/main.ts', [], serviceEnv);
  await waitFor(
    'worker',
    async () => {
      if (!isOurProcessAlive(worker)) throw new Error(`worker exited; see ${worker.logFile}`);
      return existsSync(worker.logFile) && readFileSync(worker.logFile, 'utf8').includes('"msg":"worker started"');
    },
    readyTimeoutMs,
  );
  const gatewayUrl = `http://${o.host}:${o.gatewayPort}`;
  const gateway = startNodeProcess(dataDir, 'gateway', 'services/gateway/main.ts', [], {
    ...serviceEnv,
    SB_GATEWAY_PORT: String(o.gatewayPort),
    SB_GATEWAY_HOST: o.host,
  });
  await waitFor(
    'gateway',
    async () => {
      if (!isOurProcessAlive(gateway)) throw new Error(`gateway exited; see ${gateway.logFile}`);
      return (await fetch(`${gatewayUrl}/readyz`)).ok;
    },
    readyTimeoutMs,
  );
  return { ...(vendor ? { fakeVendorUrl } : {}), gatewayUrl, configPath, processes: [...(vendor ? [vendor] : []), worker, gateway] };
}

export async function stopNodeServices(dataDir: string): Promise<Record<string, 'stopped' | 'not-running'>> {
  const result: Record<string, 'stopped' | 'not-running'> = {};
  // The worker first: it drains in-flight attempts while the vendor still answers.
  for (const name of [...NODE_SERVICES].reverse()) result[name] = await stopRecorded(join(resolve(dataDir), 'pids', `${name}.pid`), 20_000);
  return result;
}
