/**
 * The production topology on one machine, as functions (`make cluster-up`
 * and the cluster chaos suite both use them): three nats-servers in one
 * JetStream cluster, a real Temporal server on PostgreSQL, two workers and two
 * gateways behind the same config, every stream and bucket with three copies.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { waitFor } from '../../lib/ports';
import { isOurProcessAlive, readPidFile, stopRecorded } from '../local-stack/processes';
import { devSecretsEnv, ensureDevSecrets } from '../local-stack/dev-secrets';
import { readEnvFile, startNodeProcess } from '../local-stack/node-services';
import { chooseStackConfig } from '../local-stack/stack-config';
import { resolveBinary } from '../local-stack/stack';
import { connectNats } from '../../lib/nats/connect';
import { setUpJetStream } from './jetstream-setup';
import { startNatsCluster, type NatsCluster } from './nats-cluster';
import { ensurePostgresBinaries, startClusterPostgres } from './postgres';
import { clusterPorts, type ClusterStackEnv } from './settings';
import { startTemporalServer } from './temporal-server';

const REPLICAS = 3;
/** Stop order for `cluster-down`: callers first, then what they depend on. */
const STOP_ORDER = ['gateway-1', 'gateway-2', 'worker-1', 'worker-2', 'fake-vendor', 'temporal-server', 'nats-1', 'nats-2', 'nats-3', 'postgres'];

export interface ClusterStack {
  dataDir: string;
  nats: NatsCluster;
  temporalAddress: string;
  postgresUrl: string;
  fakeVendorUrl?: string;
  gatewayUrls: string[];
  workerHealthUrls: string[];
  /** Pid file of a process the stack started (`worker-1`, `gateway-2`, `nats-3`, `postgres`, `temporal-server`, …). */
  pidFile(name: string): string;
}

/**
 * Starts (or adopts the live parts of) the cluster stack and waits until every
 * worker and gateway is ready. `serviceEnv` is added to the workers' and
 * gateways' environment (e.g. the vendor keys of a config that points at a
 * fake vendor of the caller's own); default none.
 */
export async function startClusterStack(
  env: ClusterStackEnv,
  say: (line: string) => void = () => undefined,
  options: { serviceEnv?: NodeJS.ProcessEnv } = {},
): Promise<ClusterStack> {
  const dataDir = resolve(env.SB_CLUSTER_DATA_DIR);
  const ports = clusterPorts(env.SB_CLUSTER_PORT_BASE);

  const postgres = await startClusterPostgres({ dataDir, port: ports.postgres, binDir: ensurePostgresBinaries(say) });
  const nats = await startNatsCluster({ dataDir, ports: ports.nats, ...(env.SB_NATS_BIN ? { natsBin: env.SB_NATS_BIN } : {}) });
  const setupConnection = await connectNats({ url: nats.url, name: 'switchboard-cluster-setup', replicas: REPLICAS });
  try {
    await setUpJetStream(
      setupConnection,
      chooseStackConfig({ configPath: env.SB_CONFIG, fakeVendorUrl: `http://127.0.0.1:${ports.fakeVendor}`, mode: 'auto', env: process.env }).config,
      REPLICAS,
    );
  } finally {
    await setupConnection.close();
  }
  await startTemporalServer({
    dataDir,
    binaries: {
      server: env.SB_TEMPORAL_SERVER_BIN,
      sqlTool: env.SB_TEMPORAL_SQL_TOOL_BIN,
      schemaDir: env.SB_TEMPORAL_SCHEMA_DIR,
      cli: resolveBinary('temporal', env.SB_TEMPORAL_BIN),
    },
    postgresPort: ports.postgres,
    frontendPort: ports.temporalFrontend,
    membershipPort: ports.temporalMembership,
  });
  const temporalAddress = `127.0.0.1:${ports.temporalFrontend}`;

  const fakeVendorUrl = `http://127.0.0.1:${ports.fakeVendor}`;
  const chosen = chooseStackConfig({ configPath: env.SB_CONFIG, fakeVendorUrl, mode: 'auto', env: process.env });
  const serviceEnv: NodeJS.ProcessEnv = {
    ...(chosen.startFakeVendor ? readEnvFile(resolve(__dirname, '../../config/local.env')) : {}),
    ...process.env,
    ...options.serviceEnv,
    // Temporal payloads encrypted with the stack's own dev key (docs/security.md), as on the local stack.
    ...devSecretsEnv(ensureDevSecrets(dataDir), undefined, process.env),
    SB_CONFIG: env.SB_CONFIG,
    FAKE_VENDOR_URL: fakeVendorUrl,
    TEMPORAL_ADDRESS: temporalAddress,
    NATS_URL: nats.url,
    SB_NATS_REPLICAS: String(REPLICAS),
  };
  if (chosen.startFakeVendor) {
    startNodeProcess(
      dataDir,
      'fake-vendor',
      'services/fake-vendor/main.ts',
      ['--config', 'config/fake-vendor.example.yaml', '--port', String(ports.fakeVendor), '--host', '127.0.0.1'],
      process.env,
    );
    await waitFor('fake vendor', async () => (await fetch(`${fakeVendorUrl}/_admin/health`)).ok, 60_000);
  }
  for (const [i, port] of ports.workerHealth.entries()) {
    startNodeProcess(dataDir, `worker-${i + 1}`, 'services/worker/main.ts', [], { ...serviceEnv, SB_HEALTH_PORT: String(port) });
  }
  for (const [i, port] of ports.gateways.entries()) {
    startNodeProcess(dataDir, `gateway-${i + 1}`, 'services/gateway/main.ts', [], {
      ...serviceEnv,
      SB_GATEWAY_PORT: String(port),
      SB_GATEWAY_HOST: '127.0.0.1',
    });
  }
  const ready = (url: string, name: string) =>
    waitFor(
      name,
      async () => {
        const record = readPidFile(join(dataDir, 'pids', `${name}.pid`));
        if (!record || !isOurProcessAlive(record)) throw new Error(`${name} exited; see ${join(dataDir, 'logs', `${name}.log`)}`);
        return (await fetch(`${url}/readyz`)).ok;
      },
      120_000,
    );
  await Promise.all([
    ...ports.workerHealth.map((port, i) => ready(`http://127.0.0.1:${port}`, `worker-${i + 1}`)),
    ...ports.gateways.map((port, i) => ready(`http://127.0.0.1:${port}`, `gateway-${i + 1}`)),
  ]);

  const stack: ClusterStack = {
    dataDir,
    nats,
    temporalAddress,
    postgresUrl: postgres.url(),
    ...(chosen.startFakeVendor ? { fakeVendorUrl } : {}),
    gatewayUrls: ports.gateways.map((p) => `http://127.0.0.1:${p}`),
    workerHealthUrls: ports.workerHealth.map((p) => `http://127.0.0.1:${p}`),
    pidFile: (name) => join(dataDir, 'pids', `${name}.pid`),
  };
  say(`PostgreSQL   ${postgres.url()} (Temporal's persistence and visibility)`);
  say(`Temporal     ${temporalAddress} (server on PostgreSQL, namespace default)`);
  say(`NATS         ${nats.url} (JetStream cluster, ${REPLICAS} copies of every stream and bucket)`);
  say(`fake vendor  ${chosen.startFakeVendor ? fakeVendorUrl : 'not started (the config does not point at it)'}`);
  say(`workers      2 (readyz on ${ports.workerHealth.map((p) => `:${p}`).join(', ')}), config ${env.SB_CONFIG}`);
  say(`gateways     ${ports.gateways.map((p) => `http://127.0.0.1:${p}/v1`).join(' and ')}`);
  say(`logs         ${join(dataDir, 'logs')}; stop with make cluster-down`);
  return stack;
}

/** Stops everything the stack in `dataDir` started, callers first; returns what each pid file named. */
export async function stopClusterStack(dataDir: string, say: (line: string) => void = () => undefined): Promise<void> {
  const pids = join(resolve(dataDir), 'pids');
  const recorded = existsSync(pids)
    ? readdirSync(pids)
        .filter((f) => f.endsWith('.pid'))
        .map((f) => f.slice(0, -4))
    : [];
  const order = [...STOP_ORDER.filter((n) => recorded.includes(n)), ...recorded.filter((n) => !STOP_ORDER.includes(n))];
  for (const name of order) say(`${name.padEnd(16)} ${await stopRecorded(join(pids, `${name}.pid`), 20_000)}`);
  if (order.length === 0) say('cluster stack is not running');
}
