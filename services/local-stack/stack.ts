import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import {} from '@temporalio/client';
import { connectClient } from '../../lib/config/temporal-connection';
import { searchAttributeRegistrations } from '../../contracts/names';
import { findFreePorts, isPortOpen, waitFor } from '../../lib/ports';
import { isOurProcessAlive, type PidRecord, readPidFile, spawnDetached, stopRecorded } from './processes';

export interface LocalStackOptions {
  /** Where SQLite, JetStream, pid files and logs live. */
  dataDir: string;
  /** Interface every process binds to. Default 127.0.0.1. */
  host?: string;
  temporalPort: number;
  /** Temporal Web UI port; `undefined` runs the server headless. */
  temporalUiPort?: number;
  natsPort: number;
  natsMonitorPort: number;
  temporalBin?: string;
  natsBin?: string;
  /** How long each part may take to become healthy. Default 60 s. */
  readyTimeoutMs?: number;
  /** Codec server the Temporal UI decodes payloads with (`--ui-codec-endpoint`); default none. */
  uiCodecEndpoint?: string;
  /** Keep Temporal's state in `<dataDir>/temporal.db`; false keeps it in memory (tests: faster, thrown away anyway). Default true. */
  persist?: boolean;
}

export interface LocalStack {
  temporalAddress: string;
  natsUrl: string;
  natsMonitorUrl: string;
  temporalUiUrl?: string;
  dataDir: string;
  processes: PidRecord[];
}

/** Update-with-start and eager start cut a call's latency; the dev server has them off or gated. */
/** The dev server's SQLite file in WAL mode with normal syncs (the default is a rollback journal with full syncs). */
const SQLITE_PRAGMAS = ['journal_mode=wal', 'synchronous=normal'];

export const TEMPORAL_DYNAMIC_CONFIG = [
  'system.enableEagerWorkflowStart=true',
  'frontend.enableExecuteMultiOperation=true',
  'frontend.enableUpdateWorkflowExecution=true',
  'frontend.enableUpdateWorkflowExecutionAsyncAccepted=true',
  // An activity scheduled by a workflow task goes straight back to the worker that completed it (measured: −20% per call).
  'system.enableActivityEagerExecution=true',
];

/** Finds a binary: the explicit path, then PATH, then the build cache. */
export function resolveBinary(name: 'temporal' | 'nats-server', explicit?: string): string {
  if (explicit && existsSync(explicit)) return explicit;
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  const cached = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'switchboard', 'bin', name);
  if (existsSync(cached)) return cached;
  throw new Error(`${name} not found: run 'make setup' (it builds it with Go), put it on PATH, or set SB_${name === 'temporal' ? 'TEMPORAL' : 'NATS'}_BIN`);
}

function paths(dataDir: string) {
  return {
    pids: join(dataDir, 'pids'),
    logs: join(dataDir, 'logs'),
    temporalDb: join(dataDir, 'temporal.db'),
    jetstream: join(dataDir, 'jetstream'),
  };
}

/**
 * Starts Temporal's dev server and nats-server (or adopts the ones a previous
 * `up` started and that are still alive) and waits until both are healthy.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const host = options.host ?? '127.0.0.1';
  const dataDir = resolve(options.dataDir);
  const p = paths(dataDir);
  mkdirSync(p.pids, { recursive: true });
  mkdirSync(p.logs, { recursive: true });
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;

  const temporal = await ensureProcess({
    name: 'temporal',
    port: options.temporalPort,
    host,
    pidFile: join(p.pids, 'temporal.pid'),
    logFile: join(p.logs, 'temporal.log'),
    command: resolveBinary('temporal', options.temporalBin),
    args: [
      'server',
      'start-dev',
      '--ip',
      host,
      '--port',
      String(options.temporalPort),
      ...(options.temporalUiPort ? ['--ui-port', String(options.temporalUiPort)] : ['--headless']),
      ...(options.temporalUiPort && options.uiCodecEndpoint ? ['--ui-codec-endpoint', options.uiCodecEndpoint] : []),
      // WAL + synchronous=normal: a crashed process loses nothing committed; only an OS crash or power loss may lose the
      // last moments (README, "The local stack"). Measured: see docs/benchmarks.md, "The local stack's Temporal".
      ...(options.persist === false ? [] : ['--db-filename', p.temporalDb, ...SQLITE_PRAGMAS.flatMap((pragma) => ['--sqlite-pragma', pragma])]),
      '--log-level',
      'warn',
      ...searchAttributeRegistrations().flatMap((sa) => ['--search-attribute', sa]),
      ...TEMPORAL_DYNAMIC_CONFIG.flatMap((dc) => ['--dynamic-config-value', dc]),
    ],
  });
  const nats = await ensureProcess({
    name: 'nats',
    port: options.natsPort,
    host,
    pidFile: join(p.pids, 'nats.pid'),
    logFile: join(p.logs, 'nats.log'),
    command: resolveBinary('nats-server', options.natsBin),
    args: [
      '--addr',
      host,
      '--port',
      String(options.natsPort),
      '--http_port',
      String(options.natsMonitorPort),
      '--jetstream',
      '--store_dir',
      p.jetstream,
      '--server_name',
      'switchboard-local',
    ],
  });

  const stack: LocalStack = {
    temporalAddress: `${host}:${options.temporalPort}`,
    natsUrl: `nats://${host}:${options.natsPort}`,
    natsMonitorUrl: `http://${host}:${options.natsMonitorPort}`,
    temporalUiUrl: options.temporalUiPort ? `http://${host}:${options.temporalUiPort}` : undefined,
    dataDir,
    processes: [temporal, nats],
  };
  const exited = (record: PidRecord) => async () => {
    if (!isOurProcessAlive(record)) throw new Error(`${record.name} exited; see ${record.logFile}`);
    return false;
  };
  await Promise.all([
    waitFor('nats-server', async () => (await exited(nats)()) || isNatsHealthy(stack.natsMonitorUrl), readyTimeoutMs),
    waitFor('Temporal dev server', async () => (await exited(temporal)()) || isTemporalHealthy(stack.temporalAddress), readyTimeoutMs),
  ]);
  if (stack.temporalUiUrl) {
    const ui = stack.temporalUiUrl;
    await waitFor('Temporal Web UI', async () => (await fetch(ui)).ok, readyTimeoutMs);
  }
  return stack;
}

/**
 * Starts a stack on free ports the kernel hands out (tests, benchmarks). A
 * port can be taken between finding and binding it — the dev server picks its
 * own internal ports too, and a second stack may start at the same moment —
 * so a failed start is stopped and tried again on new ports and a new
 * directory, up to `tries` times.
 */
export async function startLocalStackOnFreePorts(
  options: Omit<LocalStackOptions, 'dataDir' | 'temporalPort' | 'natsPort' | 'natsMonitorPort'> & { newDataDir: () => string },
  tries = 3,
): Promise<{ stack: LocalStack; options: LocalStackOptions }> {
  const { newDataDir, ...rest } = options;
  for (let attempt = 1; ; attempt++) {
    const [temporalPort, natsPort, natsMonitorPort] = await findFreePorts(3);
    const started: LocalStackOptions = { ...rest, dataDir: newDataDir(), temporalPort: temporalPort!, natsPort: natsPort!, natsMonitorPort: natsMonitorPort! };
    try {
      return { stack: await startLocalStack(started), options: started };
    } catch (error) {
      await stopLocalStack(started.dataDir);
      if (attempt >= tries) throw error;
    }
  }
}

/** Stops what `startLocalStack` started in `dataDir`, by pid; stale pid files are removed. */
export async function stopLocalStack(dataDir: string): Promise<Record<string, 'stopped' | 'not-running'>> {
  const p = paths(resolve(dataDir));
  const result: Record<string, 'stopped' | 'not-running'> = {};
  for (const name of ['temporal', 'nats']) {
    result[name] = await stopRecorded(join(p.pids, `${name}.pid`));
  }
  return result;
}

export function describeLocalStack(dataDir: string): PidRecord[] {
  const p = paths(resolve(dataDir));
  return ['temporal', 'nats', 'fake-vendor', 'worker', 'gateway']
    .map((name) => readPidFile(join(p.pids, `${name}.pid`)))
    .filter((r): r is PidRecord => r !== undefined && isOurProcessAlive(r));
}

interface EnsureOptions {
  name: string;
  port: number;
  host: string;
  pidFile: string;
  logFile: string;
  command: string;
  args: string[];
}

async function ensureProcess(o: EnsureOptions): Promise<PidRecord> {
  const existing = readPidFile(o.pidFile);
  if (existing && isOurProcessAlive(existing)) return existing;
  if (await isPortOpen(o.port, o.host)) {
    throw new Error(`port ${o.port} on ${o.host} is taken by a process this stack did not start; stop it or choose another port for ${o.name}`);
  }
  return spawnDetached(o);
}

async function isNatsHealthy(monitorUrl: string): Promise<boolean> {
  const response = await fetch(`${monitorUrl}/healthz?js-enabled-only=true`);
  return response.ok;
}

async function isTemporalHealthy(address: string): Promise<boolean> {
  const connection = await connectClient({ address, connectTimeout: 1_000 });
  try {
    await connection.workflowService.describeNamespace({ namespace: 'default' });
    return true;
  } finally {
    await connection.close();
  }
}
