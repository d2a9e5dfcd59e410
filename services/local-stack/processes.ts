import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { z } from 'zod';

/** What a pid file records about a process the local stack started. */
export const PidRecord = z.object({
  name: z.string(),
  pid: z.number().int().positive(),
  command: z.string(),
  logFile: z.string(),
  startedAt: z.string(),
  /** A string the process's command line must contain (e.g. a script path), to tell it from a reused pid. */
  match: z.string().optional(),
});
export type PidRecord = z.infer<typeof PidRecord>;

export interface SpawnOptions {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  pidFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  match?: string;
  /** Run as this user and group (PostgreSQL refuses to run as root). Default ours. */
  uid?: number;
  gid?: number;
}

/**
 * Starts a process in its own process group, detached from ours, with stdout
 * and stderr appended to `logFile`, and records it in `pidFile`.
 */
export function spawnDetached(options: SpawnOptions): PidRecord {
  mkdirSync(dirname(options.logFile), { recursive: true });
  mkdirSync(dirname(options.pidFile), { recursive: true });
  const log = openSync(options.logFile, 'a');
  try {
    const child = spawn(options.command, options.args, {
      detached: true,
      stdio: ['ignore', log, log],
      env: options.env ?? process.env,
      cwd: options.cwd,
      ...(options.uid !== undefined ? { uid: options.uid } : {}),
      ...(options.gid !== undefined ? { gid: options.gid } : {}),
    });
    if (child.pid === undefined) throw new Error(`could not start ${options.name} (${options.command})`);
    child.unref();
    const record: PidRecord = {
      name: options.name,
      pid: child.pid,
      command: options.command,
      logFile: options.logFile,
      startedAt: new Date().toISOString(),
      ...(options.match ? { match: options.match } : {}),
    };
    writeFileSync(options.pidFile, JSON.stringify(record));
    return record;
  } finally {
    closeSync(log);
  }
}

export function readPidFile(pidFile: string): PidRecord | undefined {
  if (!existsSync(pidFile)) return undefined;
  try {
    return PidRecord.parse(JSON.parse(readFileSync(pidFile, 'utf8')));
  } catch {
    return undefined; // a torn or foreign file is treated as stale
  }
}

/**
 * True when `record.pid` is alive and still runs the command we started: a
 * pid file left by a `kill -9`ed run may name a pid the kernel has reused.
 */
export function isOurProcessAlive(record: PidRecord): boolean {
  try {
    process.kill(record.pid, 0);
  } catch {
    return false;
  }
  try {
    const cmdline = readFileSync(`/proc/${record.pid}/cmdline`, 'utf8');
    return cmdline.includes(basename(record.command)) && (!record.match || cmdline.includes(record.match));
  } catch {
    return true; // no /proc (not Linux): trust kill(0)
  }
}

/** Stops the process a pid file names (its whole group), then removes the file. */
export async function stopRecorded(pidFile: string, graceMs = 10_000): Promise<'stopped' | 'not-running'> {
  const record = readPidFile(pidFile);
  if (!record || !isOurProcessAlive(record)) {
    rmSync(pidFile, { force: true });
    return 'not-running';
  }
  signalGroup(record.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && isOurProcessAlive(record)) {
    await new Promise((r) => setTimeout(r, 50));
  }
  if (isOurProcessAlive(record)) signalGroup(record.pid, 'SIGKILL');
  rmSync(pidFile, { force: true });
  return 'stopped';
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** SIGKILLs the process a pid file names, as a crashed node would die (the demo's crash drill). */
export function killRecorded(pidFile: string): boolean {
  const record = readPidFile(pidFile);
  if (!record || !isOurProcessAlive(record)) return false;
  signalGroup(record.pid, 'SIGKILL');
  rmSync(pidFile, { force: true });
  return true;
}
