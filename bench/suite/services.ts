/**
 * Processes the suite starts and must stop: each is `node --import tsx
 * <script>` (one process, so a SIGKILL reaches the program itself, as a
 * node dying would), logging to a file under the run directory. Every one is
 * tracked so `stopAll` (and an exit of this process) leaves no stray behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../..');

export interface ServiceProcess {
  name: string;
  pid: number;
  child: ChildProcess;
  logFile: string;
  /** Resolves with the exit code or signal. */
  exited: Promise<number | string>;
  isAlive(): boolean;
  /** Its Prometheus /metrics, when it serves one (a worker's health port, a gateway). */
  metricsUrl?: string;
}

const running = new Set<ServiceProcess>();

export function spawnService(options: {
  name: string;
  command?: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  logDir: string;
  cwd?: string;
}): ServiceProcess {
  mkdirSync(options.logDir, { recursive: true });
  const logFile = join(options.logDir, `${options.name}.log`);
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(options.command ?? process.execPath, options.command ? options.args : ['--import', 'tsx', ...options.args], {
      cwd: options.cwd ?? ROOT,
      env: options.env,
      stdio: ['ignore', fd, fd],
    });
    if (child.pid === undefined) throw new Error(`could not start ${options.name}`);
    const exited = new Promise<number | string>((r) => child.once('exit', (code, signal) => r(code ?? signal ?? 'unknown')));
    const service: ServiceProcess = {
      name: options.name,
      pid: child.pid,
      child,
      logFile,
      exited,
      isAlive: () => child.exitCode === null && child.signalCode === null,
    };
    running.add(service);
    void exited.then(() => running.delete(service));
    return service;
  } finally {
    closeSync(fd);
  }
}

/** The last lines of a service's log, for an error message. */
export function logTail(service: ServiceProcess, lines = 15): string {
  try {
    return readFileSync(service.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Polls `url` until it answers 2xx; fails early when the service exits. */
export async function waitUntilReady(service: ServiceProcess, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!service.isAlive()) throw new Error(`${service.name} exited before it was ready:\n${logTail(service)}`);
    const ok = await fetch(url, { signal: AbortSignal.timeout(2_000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${service.name} not ready at ${url} within ${timeoutMs} ms:\n${logTail(service)}`);
}

/** SIGTERM, then SIGKILL after `graceMs`. */
export async function stopService(service: ServiceProcess, graceMs = 10_000): Promise<void> {
  if (!service.isAlive()) return;
  service.child.kill('SIGTERM');
  const timer = new Promise((r) => setTimeout(r, graceMs).unref());
  await Promise.race([service.exited, timer]);
  if (service.isAlive()) {
    service.child.kill('SIGKILL');
    await service.exited;
  }
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((s) => stopService(s)));
}

// A crash of the suite itself must not leave services behind.
process.on('exit', () => {
  for (const s of running) if (s.isAlive()) s.child.kill('SIGKILL');
});
