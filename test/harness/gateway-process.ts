/**
 * Gateways as separate processes (`services/gateway/main.ts` under tsx, the
 * way pods run), so tests can show what holds across processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { serviceEnv, WORKER_START_MS } from './worker-process';

const root = resolve(__dirname, '../..');

export interface GatewayProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

/** Starts a gateway process on a free port and resolves once it logs its URL; rejects with its output at once when it exits, or when a hung start passes `timeoutMs` (default WORKER_START_MS). */
export async function spawnGateway(options: {
  configPath: string;
  taskQueue: string;
  withWorker?: boolean;
  timeoutMs?: number;
  env?: Record<string, string>;
}): Promise<GatewayProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/gateway/main.ts'], {
    cwd: root,
    env: serviceEnv({ ...options, env: { SB_GATEWAY_PORT: '0', SB_GATEWAY_WORKER: String(options.withWorker ?? false), ...options.env } }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gateway did not start within ${options.timeoutMs ?? WORKER_START_MS} ms:\n${output}`));
    }, options.timeoutMs ?? WORKER_START_MS);
    const onData = (data: Buffer) => {
      output += data.toString();
      const match = /"url":"(http:\/\/[^"]+)"[^\n]*gateway listening/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolveUrl(match[1]!);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited (${code}) before listening:\n${output}`));
    });
  });
  return {
    child,
    url,
    output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
