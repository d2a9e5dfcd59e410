/**
 * A JetStream cluster of nats-server processes on one machine: each node
 * listens on its own client, route and monitoring port on loopback and routes
 * to every other. Used by `make cluster-up` and by the replication tests.
 * Nodes run detached with pid files (`<dataDir>/pids/nats-<name>.pid`), so
 * they outlive the command that started them and can be killed and
 * restarted one by one (same name, same store).
 */
import { join } from 'node:path';
import { waitFor } from '../../lib/ports';
import { isOurProcessAlive, killRecorded, readPidFile, spawnDetached, stopRecorded } from '../local-stack/processes';
import { resolveBinary } from '../local-stack/stack';

export interface NatsNode {
  name: string;
  clientPort: number;
  routePort: number;
  monitorPort: number;
  url: string;
  monitorUrl: string;
}

export interface NatsClusterOptions {
  /** Folder for each node's store, log and pid file. */
  dataDir: string;
  /** One `{client, route, monitor}` port triple per node (its length is the cluster's size). */
  ports: { client: number; route: number; monitor: number }[];
  host?: string;
  /** Default: `SB_NATS_BIN`, PATH, or the cache (`scripts/ensure-binaries.sh`). */
  natsBin?: string;
  /** How long to wait for a JetStream meta leader. Default 60 s. */
  readyTimeoutMs?: number;
}

export interface NatsCluster {
  nodes: NatsNode[];
  /** Every node's client URL, comma-separated: what `NATS_URL` takes. */
  url: string;
  /** SIGKILL node `index` (no goodbye to its peers). */
  kill(index: number): void;
  /** Starts node `index` again with its store; waits until it answers. */
  restart(index: number): Promise<void>;
  isRunning(index: number): boolean;
  stop(): Promise<void>;
}

const CLUSTER_NAME = 'sb-cluster';

function natsClusterNodes(options: Pick<NatsClusterOptions, 'ports' | 'host'>): NatsNode[] {
  const host = options.host ?? '127.0.0.1';
  return options.ports.map((p, i) => ({
    name: `nats-${i + 1}`,
    clientPort: p.client,
    routePort: p.route,
    monitorPort: p.monitor,
    url: `nats://${host}:${p.client}`,
    monitorUrl: `http://${host}:${p.monitor}`,
  }));
}

/** Starts (or adopts the live ones of) every node and waits until the cluster has a JetStream meta leader and sees every node online. */
export async function startNatsCluster(options: NatsClusterOptions): Promise<NatsCluster> {
  const host = options.host ?? '127.0.0.1';
  const bin = resolveBinary('nats-server', options.natsBin);
  const nodes = natsClusterNodes(options);
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  const pidFile = (node: NatsNode) => join(options.dataDir, 'pids', `${node.name}.pid`);
  const running = (node: NatsNode) => {
    const record = readPidFile(pidFile(node));
    return record !== undefined && isOurProcessAlive(record);
  };

  const launch = (node: NatsNode) => {
    if (running(node)) return;
    const routes = nodes
      .filter((peer) => peer !== node)
      .map((peer) => `nats://${host}:${peer.routePort}`)
      .join(',');
    spawnDetached({
      name: node.name,
      command: bin,
      args: [
        '--server_name',
        node.name,
        '--addr',
        host,
        '--port',
        String(node.clientPort),
        '--http_port',
        String(node.monitorPort),
        '--cluster_name',
        CLUSTER_NAME,
        '--cluster',
        `nats://${host}:${node.routePort}`,
        '--routes',
        routes,
        '--jetstream',
        '--store_dir',
        join(options.dataDir, node.name),
      ],
      logFile: join(options.dataDir, 'logs', `${node.name}.log`),
      pidFile: pidFile(node),
      match: node.name,
    });
  };

  const cluster: NatsCluster = {
    nodes,
    url: nodes.map((n) => n.url).join(','),
    kill: (i) => void killRecorded(pidFile(nodes[i]!)),
    async restart(i) {
      const node = nodes[i]!;
      launch(node);
      await waitFor(`${node.name} answering`, () => answers(`${node.monitorUrl}/healthz`), readyTimeoutMs);
    },
    isRunning: (i) => running(nodes[i]!),
    async stop() {
      await Promise.all(nodes.map((node) => stopRecorded(pidFile(node))));
    },
  };
  for (const node of nodes) launch(node);
  try {
    await waitFor(`a JetStream meta leader and ${nodes.length} online peers`, () => wholeMetaGroup(nodes), readyTimeoutMs);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(url)).ok;
  } catch {
    return false;
  }
}

interface MetaView {
  leader?: string;
  cluster_size?: number;
  replicas?: { name?: string; current?: boolean; offline?: boolean }[];
}

/** The node's view of the JetStream meta group, or undefined while it does not answer. */
async function metaView(node: NatsNode): Promise<MetaView | undefined> {
  try {
    const response = await fetch(`${node.monitorUrl}/jsz`);
    if (!response.ok) return undefined;
    return ((await response.json()) as { meta_cluster?: MetaView }).meta_cluster;
  } catch {
    return undefined;
  }
}

/**
 * True once every node knows the same meta leader and no node sees a peer
 * offline, and the leader sees all the others current. A leader alone is not
 * enough: a peer that joined a moment ago can still be flagged offline, and
 * placing a stream with one copy per node then fails with "no suitable peers
 * for placement" (only the leader tracks whether followers are current).
 */
async function wholeMetaGroup(nodes: NatsNode[]): Promise<boolean> {
  const views = await Promise.all(nodes.map(metaView));
  const leader = views[0]?.leader;
  if (!leader || views.some((view) => view?.leader !== leader || (view.cluster_size ?? 0) < nodes.length)) return false;
  if (views.some((view) => (view?.replicas ?? []).some((peer) => peer.offline === true))) return false;
  const leaderView = views[nodes.findIndex((node) => node.name === leader)];
  const others = leaderView?.replicas ?? [];
  return others.length >= nodes.length - 1 && others.every((peer) => peer.current === true);
}
