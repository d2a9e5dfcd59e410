/**
 * A three-node JetStream cluster of a test file's own (free ports, a
 * temporary directory), for tests that SIGKILL the node holding a consumer
 * without disturbing the shared stack. Connections made through it are
 * closed with it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JetStreamManager, NatsConnection } from 'nats';
import { connectNats } from '../../lib/nats/connect';
import { findFreePorts } from '../../lib/ports';
import { startNatsCluster, type NatsCluster } from '../../services/cluster-stack/nats-cluster';

export interface OwnNatsCluster {
  cluster: NatsCluster;
  /** A connection that reconnects for as long as it takes (replicas 3), closed by `close()`. */
  connect(name: string): Promise<NatsConnection>;
  /** The index of the node that leads the only consumer of `stream` (a registry's ordered consumer: one copy, on one node). */
  holderOfOnlyConsumer(jsm: JetStreamManager, stream: string): Promise<number>;
  close(): Promise<void>;
}

export async function startOwnNatsCluster(name: string): Promise<OwnNatsCluster> {
  const dataDir = mkdtempSync(join(tmpdir(), `sb-${name}-`));
  const ports = await findFreePorts(9);
  const cluster = await startNatsCluster({ dataDir, ports: [0, 1, 2].map((i) => ({ client: ports[i]!, route: ports[i + 3]!, monitor: ports[i + 6]! })) });
  const connections: NatsConnection[] = [];
  return {
    cluster,
    async connect(client) {
      const nc = await connectNats({ url: cluster.url, name: client, replicas: 3, reconnectForever: true });
      connections.push(nc);
      return nc;
    },
    async holderOfOnlyConsumer(jsm, stream) {
      const [consumer] = await jsm.consumers.list(stream).next();
      return cluster.nodes.findIndex((node) => node.name === consumer?.cluster?.leader);
    },
    async close() {
      for (const nc of connections) await nc.close().catch(() => undefined);
      await cluster.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
