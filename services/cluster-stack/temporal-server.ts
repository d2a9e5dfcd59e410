/**
 * A real Temporal server (not the dev server) on PostgreSQL for the cluster
 * stack: persistence and visibility schemas set up with Temporal's own SQL
 * tool, one process running frontend, history, matching and worker services
 * on loopback ports, the `default` namespace and Switchboard's search
 * attributes registered with the Temporal CLI.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../../lib/ports';
import { searchAttributeRegistrations } from '../../contracts/names';
import { isOurProcessAlive, readPidFile, spawnDetached, type PidRecord } from '../local-stack/processes';
import { TEMPORAL_DYNAMIC_CONFIG } from '../local-stack/stack';

export interface TemporalServerBinaries {
  server: string;
  sqlTool: string;
  /** `.../schema/postgresql/v12` of the server module's source. */
  schemaDir: string;
  /** The Temporal CLI (namespace and search-attribute set-up, health). */
  cli: string;
}

export interface TemporalServerOptions {
  dataDir: string;
  binaries: TemporalServerBinaries;
  postgresPort: number;
  /** Frontend gRPC port (what `TEMPORAL_ADDRESS` names); history, matching and worker use the next ones. */
  frontendPort: number;
  /** First of the four membership ports. */
  membershipPort: number;
  readyTimeoutMs?: number;
}

const DATABASES = [
  { name: 'temporal', versioned: 'temporal/versioned' },
  { name: 'temporal_visibility', versioned: 'visibility/versioned' },
] as const;

/** Creates both databases and brings their schemas to the binary's version (idempotent). */
function setUpTemporalSchema(o: TemporalServerOptions): void {
  const base = ['--plugin', 'postgres12', '--ep', '127.0.0.1', '-p', String(o.postgresPort), '-u', 'postgres'];
  const run = (args: string[]) => execFileSync(o.binaries.sqlTool, [...base, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  for (const db of DATABASES) {
    try {
      run(['--db', db.name, 'create-database']);
    } catch (error) {
      if (!/already exists/.test(String((error as { stderr?: Buffer }).stderr ?? error))) throw error;
    }
    // setup-schema -v 0.0 only creates the version table; it is a no-op on a database that already has one.
    run(['--db', db.name, 'setup-schema', '-v', '0.0']);
    run(['--db', db.name, 'update-schema', '-d', join(o.binaries.schemaDir, db.versioned)]);
  }
}

/** The server's YAML config: both stores on PostgreSQL, every service on loopback. */
function temporalServerConfig(o: TemporalServerOptions, dynamicConfigPath: string): string {
  const store = (db: string, conns: number) => `
      sql:
        pluginName: postgres12
        databaseName: ${db}
        connectAddr: "127.0.0.1:${o.postgresPort}"
        connectProtocol: tcp
        user: postgres
        password: ""
        maxConns: ${conns}
        maxIdleConns: ${conns}
        maxConnLifetime: 1h`;
  const service = (name: string, offset: number) => `
  ${name}:
    rpc:
      grpcPort: ${o.frontendPort + offset}
      membershipPort: ${o.membershipPort + offset}
      bindOnLocalHost: true`;
  return `log:
  stdout: true
  level: warn
persistence:
  defaultStore: default
  visibilityStore: visibility
  numHistoryShards: 4
  datastores:
    default:${store('temporal', 20)}
    visibility:${store('temporal_visibility', 5)}
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"
services:${service('frontend', 0)}${service('history', 1)}${service('matching', 2)}${service('worker', 3)}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: "127.0.0.1:${o.frontendPort}"
dcRedirectionPolicy:
  policy: noop
dynamicConfigClient:
  filepath: ${JSON.stringify(dynamicConfigPath)}
  pollInterval: 10s
`;
}

/** The dev server's `--dynamic-config-value` settings as a dynamic-config file. */
function dynamicConfigYaml(): string {
  return TEMPORAL_DYNAMIC_CONFIG.map((setting) => {
    const [key, value] = setting.split('=') as [string, string];
    return `${key}:\n  - value: ${value}\n`;
  }).join('');
}

/** Sets up the schemas, starts (or adopts) the server, and registers the namespace and search attributes. */
export async function startTemporalServer(o: TemporalServerOptions): Promise<PidRecord> {
  const dir = join(o.dataDir, 'temporal');
  mkdirSync(dir, { recursive: true });
  const pidFile = join(o.dataDir, 'pids', 'temporal-server.pid');
  const address = `127.0.0.1:${o.frontendPort}`;
  let record = readPidFile(pidFile);
  if (!record || !isOurProcessAlive(record)) {
    setUpTemporalSchema(o);
    const dynamicConfigPath = join(dir, 'dynamicconfig.yaml');
    writeFileSync(dynamicConfigPath, dynamicConfigYaml());
    writeFileSync(join(dir, 'cluster.yaml'), temporalServerConfig(o, dynamicConfigPath));
    record = spawnDetached({
      name: 'temporal-server',
      command: o.binaries.server,
      args: ['--root', dir, '--config', '.', '--env', 'cluster', '--allow-no-auth', 'start'],
      logFile: join(o.dataDir, 'logs', 'temporal-server.log'),
      pidFile,
      cwd: dir,
      match: dir,
    });
  }
  const started = record;
  const cli = (args: string[]) => execFileSync(o.binaries.cli, [...args, '--address', address], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  await waitFor(
    'the Temporal server',
    async () => {
      if (!isOurProcessAlive(started)) throw new Error(`temporal-server exited; see ${started.logFile}`);
      try {
        cli(['operator', 'cluster', 'health']);
        return true;
      } catch {
        return false;
      }
    },
    o.readyTimeoutMs ?? 120_000,
  );
  await waitFor(
    'the default namespace',
    async () => {
      try {
        cli(['operator', 'namespace', 'describe', '--namespace', 'default']);
        return true;
      } catch {
        cli(['operator', 'namespace', 'create', '--namespace', 'default', '--retention', '72h']);
        return false;
      }
    },
    o.readyTimeoutMs ?? 120_000,
    1_000,
  );
  const wanted = searchAttributeRegistrations().map((pair) => pair.split('=')[0]!);
  const registered = cli(['operator', 'search-attribute', 'list', '--namespace', 'default']);
  for (const name of wanted.filter((n) => !registered.includes(n))) {
    cli(['operator', 'search-attribute', 'create', '--namespace', 'default', '--name', name, '--type', 'Keyword']);
  }
  return started;
}
