/**
 * Workers as separate processes (`services/worker/main.ts` under tsx), so a
 * test can SIGKILL one the way a node dies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
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
