/**
 * A JetStream cluster of nats-server processes on one machine: each node
 * listens on its own client, route and monitoring port on loopback and routes
 * to every other. Used by `make cluster-up` and by the replication tests;
 * nodes can be killed and restarted one by one (same store, same name).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { findFreePorts } from '../../lib/ports';
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
  /** Folder for each node's store and log. */
  dataDir: string;
  /** Default 3. */
  size?: number;
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
  kill(index: number): Promise<void>;
  /** Starts node `index` again with its store; waits until it answers. */
  restart(index: number): Promise<void>;
  isRunning(index: number): boolean;
  stop(): Promise<void>;
}

const CLUSTER_NAME = 'sb-cluster';

export async function startNatsCluster(options: NatsClusterOptions): Promise<NatsCluster> {
  const size = options.size ?? 3;
  const host = options.host ?? '127.0.0.1';
  const bin = resolveBinary('nats-server', options.natsBin);
  const ports = await findFreePorts(size * 3, host);
  const nodes: NatsNode[] = Array.from({ length: size }, (_, i) => {
    const [clientPort, routePort, monitorPort] = [ports[i * 3]!, ports[i * 3 + 1]!, ports[i * 3 + 2]!];
    return { name: `n${i + 1}`, clientPort, routePort, monitorPort, url: `nats://${host}:${clientPort}`, monitorUrl: `http://${host}:${monitorPort}` };
  });
  const children: (ChildProcess | undefined)[] = new Array(size);

  const launch = (i: number) => {
    const node = nodes[i]!;
    const dir = join(options.dataDir, node.name);
    mkdirSync(dir, { recursive: true });
    const out = openSync(join(dir, 'nats.log'), 'a');
    const routes = nodes.filter((_, j) => j !== i).map((peer) => `nats://${host}:${peer.routePort}`).join(',');
    const child = spawn(
      bin,
      [
        '--server_name', node.name,
        '--addr', host, '--port', String(node.clientPort), '--http_port', String(node.monitorPort),
        '--cluster_name', CLUSTER_NAME, '--cluster', `nats://${host}:${node.routePort}`, '--routes', routes,
        '--jetstream', '--store_dir', join(dir, 'store'),
      ],
      { stdio: ['ignore', out, out] },
    );
    children[i] = child;
    child.once('exit', () => {
      if (children[i] === child) children[i] = undefined;
    });
  };

  const stopChild = async (i: number, signal: NodeJS.Signals) => {
    const child = children[i];
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  };

  for (let i = 0; i < size; i++) launch(i);
  const cluster: NatsCluster = {
    nodes,
    url: nodes.map((n) => n.url).join(','),
    async kill(i) {
      await stopChild(i, 'SIGKILL');
    },
    async restart(i) {
      if (children[i]) return;
      launch(i);
      await waitUntil(() => isNodeUp(nodes[i]!), options.readyTimeoutMs ?? 60_000, `nats node ${nodes[i]!.name}`);
    },
    isRunning: (i) => children[i] !== undefined,
    async stop() {
      await Promise.all(nodes.map((_, i) => stopChild(i, 'SIGTERM')));
    },
  };
  try {
    await waitUntil(async () => (await Promise.all(nodes.map(hasMetaLeader))).every(Boolean), options.readyTimeoutMs ?? 60_000, 'a JetStream meta leader');
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

async function isNodeUp(node: NatsNode): Promise<boolean> {
  try {
    return (await fetch(`${node.monitorUrl}/healthz`)).ok;
  } catch {
    return false;
  }
}

/** True once the node knows the JetStream meta leader (the cluster can create streams). */
async function hasMetaLeader(node: NatsNode): Promise<boolean> {
  try {
    const response = await fetch(`${node.monitorUrl}/jsz`);
    if (!response.ok) return false;
    const body = (await response.json()) as { meta_cluster?: { leader?: string; cluster_size?: number } };
    return Boolean(body.meta_cluster?.leader);
  } catch {
    return false;
  }
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
