/**
 * A throwaway PostgreSQL for the suites that need one (not global setup, so
 * every other suite stays fast): initdb into a temp dir, a random free port on
 * 127.0.0.1, the unix socket in the temp dir, trust auth (so any password in a
 * URL is accepted — tests use one to prove it never reaches a log).
 *
 * Missing binaries fail loudly with how to install them; a test that needs
 * PostgreSQL is never skipped in silence.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { findFreePort, waitFor } from '../../lib/ports';
import { findPostgresBinDir, postgresIdentity } from '../../services/cluster-stack/postgres';

export { findPostgresBinDir };

export interface TestPostgres {
  port: number;
  /** `postgres://postgres:<password>@127.0.0.1:<port>/<database>`; trust auth ignores the password. */
  url(database?: string, password?: string): string;
  /** Creates a database (name: letters, digits, `_`) and returns its URL. */
  createDatabase(name: string, password?: string): Promise<string>;
  /** One query on a fresh connection to `database`. */
  query<R extends Record<string, unknown>>(database: string, sql: string, params?: unknown[]): Promise<R[]>;
  /** Fast shutdown (SIGINT): clients are disconnected, data stays. */
  stop(): Promise<void>;
  /** Starts the server again on the same data directory and port. */
  start(): Promise<void>;
  /** Stops the server and deletes its directory. */
  destroy(): Promise<void>;
}

export interface TestPostgresOptions {
  /** Keep fsync and synchronous commit on (benchmarks); default off, tests need speed, not crash safety. */
  durable?: boolean;
}

export async function startTestPostgres(options: TestPostgresOptions = {}): Promise<TestPostgres> {
  const bin = findPostgresBinDir();
  const identity = postgresIdentity();
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-pg-'));
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  if (identity) chownSync(dir, identity.uid, identity.gid);
  execFileSync(join(bin, 'initdb'), ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync', '--no-instructions'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    ...identity,
  });
  const port = await findFreePort();
  let server: ChildProcess | undefined;

  const url = (database = 'postgres', password?: string) =>
    `postgres://postgres${password ? `:${encodeURIComponent(password)}` : ''}@127.0.0.1:${port}/${database}`;

  const canConnect = async () => {
    const client = new Client({ connectionString: url() });
    // A server stopping under a connected client emits 'error' besides failing the query: the query's rejection is enough.
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('select 1');
      return true;
    } finally {
      await client.end().catch(() => undefined);
    }
  };

  const start = async () => {
    const log = openSync(logFile, 'a');
    if (identity) chownSync(logFile, identity.uid, identity.gid);
    const settings = options.durable ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'];
    try {
      server = spawn(join(bin, 'postgres'), ['-D', dataDir, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', ...settings], {
        stdio: ['ignore', log, log],
        ...identity,
      });
    } finally {
      closeSync(log);
    }
    const exited = new Promise<never>((_, reject) =>
      server!.once('exit', (code) => reject(new Error(`postgres exited (code ${code}) during start-up:\n${tail(logFile)}`))),
    );
    exited.catch(() => undefined);
    await Promise.race([waitFor(`PostgreSQL on port ${port}`, canConnect, 30_000, 100), exited]).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${tail(logFile)}`);
    });
  };

  const stop = async () => {
    const running = server;
    server = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGINT');
    const timer = setTimeout(() => running.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  };

  const query = async <R extends Record<string, unknown>>(database: string, sql: string, params: unknown[] = []) => {
    const client = new Client({ connectionString: url(database) });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return (await client.query<R>(sql, params)).rows;
    } finally {
      await client.end();
    }
  };

  try {
    await start();
  } catch (error) {
    await stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  return {
    port,
    url,
    async createDatabase(name, password) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`database name "${name}": use lower-case letters, digits and _`);
      await query('postgres', `CREATE DATABASE ${name}`);
      return url(name, password);
    },
    query,
    stop,
    start,
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no server log)';
  }
}
