/**
 * PostgreSQL from Debian's packages for the cluster stack (Temporal's
 * persistence and visibility) and the tests that need one: where the binaries
 * are, which account runs the server when we are root, and a detached server
 * with a pid file that `make cluster-down` stops.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { isOurProcessAlive, readPidFile, spawnDetached, type PidRecord } from '../local-stack/processes';

const POSTGRES_INSTALL_HINT =
  'PostgreSQL server binaries (initdb, postgres) were not found. Install them with `apt-get install postgresql` ' +
  '(Debian/Ubuntu; they land in /usr/lib/postgresql/<version>/bin), or set SB_PG_BIN to the directory holding initdb and postgres.';

/** The directory holding initdb and postgres: SB_PG_BIN, else Debian's newest /usr/lib/postgresql/<v>/bin, else PATH; undefined when none. */
function locatePostgresBinDir(env: NodeJS.ProcessEnv = process.env, debian = '/usr/lib/postgresql'): string | undefined {
  const candidates: string[] = [];
  if (env.SB_PG_BIN) candidates.push(env.SB_PG_BIN);
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => join(debian, v, 'bin')));
  }
  candidates.push(...(env.PATH ?? '').split(':').filter(Boolean));
  return candidates.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres')));
}

/** Like `locatePostgresBinDir`, but a missing server is an error saying how to install it. */
export function findPostgresBinDir(env: NodeJS.ProcessEnv = process.env, debian = '/usr/lib/postgresql'): string {
  const found = locatePostgresBinDir(env, debian);
  if (!found) throw new Error(POSTGRES_INSTALL_HINT);
  return found;
}

/** PostgreSQL refuses to run as root: when we are root, run it as the `postgres` (else `nobody`) account. */
export function postgresIdentity(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const user of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
      return { uid, gid };
    } catch {
      // try the next account
    }
  }
  throw new Error('running as root and neither a `postgres` nor a `nobody` account exists to run PostgreSQL as');
}

/** Finds the server binaries, installing Debian's `postgresql` package when they are missing and we are root with apt-get. */
export function ensurePostgresBinaries(log: (line: string) => void): string {
  const found = locatePostgresBinDir();
  if (found) return found;
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    log("PostgreSQL server not found: installing Debian's postgresql package");
    try {
      execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'postgresql'], {
        stdio: 'inherit',
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
    } catch {
      execFileSync('apt-get', ['update'], { stdio: 'inherit' });
      execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'postgresql'], {
        stdio: 'inherit',
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
    }
  }
  return findPostgresBinDir();
}

export interface ClusterPostgres {
  port: number;
  /** `postgres://postgres@127.0.0.1:<port>/<database>` (trust auth on loopback). */
  url(database?: string): string;
  record: PidRecord;
}

/** Starts (or adopts) a detached PostgreSQL on `port` with its data in `<dataDir>/postgres`; durable settings (fsync on). */
export async function startClusterPostgres(o: { dataDir: string; port: number; binDir: string; readyTimeoutMs?: number }): Promise<ClusterPostgres> {
  const identity = postgresIdentity();
  const home = join(o.dataDir, 'postgres');
  const data = join(home, 'data');
  const pidFile = join(o.dataDir, 'pids', 'postgres.pid');
  const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${o.port}/${database}`;
  const logFile = join(o.dataDir, 'logs', 'postgres.log');
  const readyTimeoutMs = o.readyTimeoutMs ?? 60_000;
  const deadline = Date.now() + readyTimeoutMs;
  // After a SIGKILL the dead postmaster's backends hold its shared memory until they notice and exit:
  // a new postmaster refuses to start until then, so a start that exits at once is tried again.
  for (let attempt = 1; ; attempt++) {
    const record = spawnOrAdopt(o, { home, data, pidFile, logFile, identity });
    if (await answersBeforeExit(record, url(), deadline, `PostgreSQL on port ${o.port} was not ready within ${readyTimeoutMs} ms; see ${logFile}`)) {
      return { port: o.port, url, record };
    }
    if (Date.now() > deadline || attempt >= 10) throw new Error(`postgres exited ${attempt} times; see ${logFile}`);
    await new Promise((r) => setTimeout(r, 2_000));
  }
}

/**
 * True once PostgreSQL answers, false as soon as its process exited (not
 * `waitFor`, which would take the exit for "not yet" and wait out the whole
 * deadline — the retry above never ran, and a refused restart stayed down).
 */
async function answersBeforeExit(record: PidRecord, url: string, deadline: number, timeoutMessage: string): Promise<boolean> {
  while (Date.now() < deadline) {
    if (!isOurProcessAlive(record)) return false;
    if (await canConnect(url)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(timeoutMessage);
}

function spawnOrAdopt(
  o: { dataDir: string; port: number; binDir: string },
  p: { home: string; data: string; pidFile: string; logFile: string; identity: ReturnType<typeof postgresIdentity> },
): PidRecord {
  const { home, data, pidFile, logFile, identity } = p;
  let record = readPidFile(pidFile);
  if (!record || !isOurProcessAlive(record)) {
    mkdirSync(home, { recursive: true });
    if (identity) {
      chownSync(home, identity.uid, identity.gid);
      // The server's account must be able to pass through our data dir (mkdtemp makes it 0700).
      chmodSync(o.dataDir, statSync(o.dataDir).mode | 0o711);
    }
    if (!existsSync(join(data, 'PG_VERSION'))) {
      execFileSync(join(o.binDir, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-instructions'], {
        stdio: ['ignore', 'ignore', 'pipe'],
        ...identity,
      });
    }
    mkdirSync(join(o.dataDir, 'logs'), { recursive: true });
    record = spawnDetached({
      name: 'postgres',
      command: join(o.binDir, 'postgres'),
      args: ['-D', data, '-p', String(o.port), '-k', home, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
      logFile,
      pidFile,
      match: data,
      ...identity,
    });
    if (identity) chownSync(logFile, identity.uid, identity.gid);
  }
  return record;
}

async function canConnect(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}
