/**
 * Workers as separate processes (`services/worker/main.ts` under tsx), so a
 * test can SIGKILL one the way a node dies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { findFreePort } from '../../lib/ports';
import type { SwitchboardConfigInput } from '../../schemas/config';
import { testSecretsEnv } from './switchboard';
import { testPayloadEnv, testStack } from './env';

const root = resolve(__dirname, '../..');

export function writeConfigFile(config: SwitchboardConfigInput | string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sb-config-'));
  const path = join(dir, 'switchboard.json');
  writeFileSync(path, typeof config === 'string' ? config : JSON.stringify(config, null, 2));
  return path;
}

export interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or signal). */
  exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): void;
}

/**
 * The environment a Switchboard process (worker or gateway) gets in tests: the
 * test stack, the prebuilt workflow bundle, the fake vendor's keys, and the
 * task queue as its breaker cluster, apart from every other test's.
 */
export function serviceEnv(options: { configPath: string; taskQueue: string; controlBucket?: string; env?: Record<string, string> }): NodeJS.ProcessEnv {
  const { temporalAddress, natsUrl, workflowBundle } = testStack();
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    SB_CONFIG: options.configPath,
    TEMPORAL_ADDRESS: temporalAddress,
    NATS_URL: natsUrl,
    SB_TASK_QUEUE: options.taskQueue,
    SB_WORKFLOW_BUNDLE: workflowBundle,
    LOG_LEVEL: 'info',
    ...(options.controlBucket ? { SB_CONTROL_BUCKET: options.controlBucket } : {}),
    SB_CLUSTER: options.taskQueue,
    ...testSecretsEnv,
    ...testPayloadEnv(),
    ...options.env,
  };
}

export function spawnWorker(options: { configPath: string; taskQueue: string; controlBucket?: string; env?: Record<string, string> }): WorkerProcess {
  // `node --import tsx`, not the tsx CLI: the CLI runs the program in a child process, which a SIGKILL would miss.
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/worker/main.ts'], {
    cwd: root,
    env: serviceEnv(options),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | string>((resolveExit) => child.once('exit', (code, signal) => resolveExit(code ?? signal ?? 'unknown')));
  return { child, output: () => output, exited, kill: (signal = 'SIGKILL') => child.kill(signal) };
}

/** How long a spawned worker may take to become ready: it starts under tsx, which on a loaded 2-core machine takes its time. */
export const WORKER_START_MS = 150_000;

/**
 * Waits until the spawned worker answers `/readyz` on `healthPort`, for as
 * long as it lives: a worker that exits fails the wait at once, with its
 * output; one that is slow (a loaded machine) is waited for up to
 * WORKER_START_MS, which only catches a hung start. Give the hook that calls
 * it a timeout above that.
 */
export async function waitUntilReady(worker: WorkerProcess, healthPort: number): Promise<void> {
  let exit: number | string | undefined;
  void worker.exited.then((code) => (exit = code));
  const deadline = Date.now() + WORKER_START_MS;
  for (;;) {
    if (exit !== undefined) throw new Error(`the spawned worker exited (${String(exit)}) before it was ready; its output:\n${worker.output().slice(-4_000)}`);
    const ready = await fetch(`http://127.0.0.1:${healthPort}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return;
    if (Date.now() > deadline) throw new Error(`the spawned worker was not ready within ${WORKER_START_MS} ms; its output:\n${worker.output().slice(-4_000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Spawns a worker with its health server on a free port and waits until it is
 * ready. A port found free can be taken by another process before the worker
 * binds it (suites and a demo stack share the machine): a worker that exits
 * with EADDRINUSE is started again on another port.
 */
export async function startWorkerOnFreePort(options: Parameters<typeof spawnWorker>[0]): Promise<{ worker: WorkerProcess; healthPort: number }> {
  for (let attempt = 1; ; attempt++) {
    const healthPort = await findFreePort();
    const worker = spawnWorker({ ...options, env: { ...options.env, SB_HEALTH_PORT: String(healthPort) } });
    try {
      await waitUntilReady(worker, healthPort);
      return { worker, healthPort };
    } catch (error) {
      if (attempt >= 5 || !worker.output().includes('EADDRINUSE')) throw error;
    }
  }
}
