/**
 * Replication as configuration: every stream and bucket Switchboard creates
 * gets `SB_NATS_REPLICAS` copies, an existing one is brought to that count,
 * and on a real three-node JetStream cluster (three nats-server processes on
 * loopback) losing the node that leads `sb_breakers` and `SB_CALLS` loses
 * nothing with three copies.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JetStreamManager, NatsConnection } from 'nats';
import { connectNats } from '../../lib/nats/connect';
import { openBucket } from '../../lib/nats/kv';
import { kvStreamName } from '../../lib/nats/replicas';
import { ensureStreams, streams } from '../../lib/nats/streams';
import { findFreePorts } from '../../lib/ports';
import { startNatsCluster, type NatsCluster } from '../../services/cluster-stack/nats-cluster';
import { testStack } from '../harness/env';

jest.setTimeout(180_000);

async function replicasOfStream(jsm: JetStreamManager, name: string): Promise<number> {
  return (await jsm.streams.info(name)).config.num_replicas ?? 1;
}

async function eventually<T>(what: string, fn: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      return await fn();
    } catch (error) {
      last = error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  throw new Error(`${what}: still failing after ${timeoutMs} ms: ${String(last)}`);
}

describe('one nats-server (the embedded stack)', () => {
  let nc: NatsConnection | undefined;
  afterAll(async () => {
    await nc?.close();
  });

  it('refuses more copies than a single server can hold, saying what to do', async () => {
    nc = await connectNats({ url: testStack().natsUrl, name: 'replicas-test', replicas: 3 });
    const error = await ensureStreams(nc).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(Error);
    expect(error!.message).toContain('SB_NATS_REPLICAS');
    expect(error!.message).toMatch(/stream SB_\w+/);
    expect(error!.message).toMatch(/SB_NATS_REPLICAS=1|--replicas 3/);
  });

  it('rejects a replica count NATS cannot have', async () => {
    await expect(connectNats({ url: testStack().natsUrl, name: 'replicas-test', replicas: 0 })).rejects.toThrow(/SB_NATS_REPLICAS/);
  });
});

describe('a three-node JetStream cluster', () => {
  let dataDir = '';
  let cluster: NatsCluster | undefined;
  const connections: NatsConnection[] = [];
  const connectTo = async (replicas: number) => {
    const nc = await connectNats({ url: cluster!.url, name: 'replicas-test', replicas, reconnectForever: true });
    connections.push(nc);
    return nc;
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'sb-nats-cluster-'));
    const free = await findFreePorts(9);
    const ports = [0, 1, 2].map((i) => ({ client: free[i * 3]!, route: free[i * 3 + 1]!, monitor: free[i * 3 + 2]! }));
    cluster = await startNatsCluster({ dataDir, ports });
  });
  afterAll(async () => {
    for (const nc of connections) await nc.close().catch(() => undefined);
    await cluster?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('creates every stream and bucket with three copies, and brings one-copy ones up to three', async () => {
    const single = await connectTo(1);
    await ensureStreams(single);
    await openBucket(single, 'sb_breakers');
    const jsm = await single.jetstreamManager();
    expect(await replicasOfStream(jsm, streams.calls.name)).toBe(1);
    expect(await replicasOfStream(jsm, kvStreamName('sb_breakers'))).toBe(1);

    const replicated = await connectTo(3);
    await ensureStreams(replicated);
    await openBucket(replicated, 'sb_breakers');
    await openBucket(replicated, 'sb_cache', { history: 1, ttl: 60_000 });
    for (const stream of Object.values(streams)) expect(await replicasOfStream(jsm, stream.name)).toBe(3);
    expect(await replicasOfStream(jsm, kvStreamName('sb_breakers'))).toBe(3);
    expect(await replicasOfStream(jsm, kvStreamName('sb_cache'))).toBe(3);
  });

  it('keeps breaker state and CallEvents when the node leading them is SIGKILLed', async () => {
    const nc = await connectTo(3);
    await ensureStreams(nc);
    const breakers = await openBucket(nc, 'sb_breakers');
    await breakers.put('openai.org-a', new TextEncoder().encode('open'));
    const js = nc.jetstream();
    for (let i = 0; i < 20; i++) await js.publish('sb.call.openai.org-a', new TextEncoder().encode(`event-${i}`), { msgID: `replicas-test-${i}` });

    const jsm = await nc.jetstreamManager();
    // The copies made when the streams were scaled up above must have caught up before a node may go.
    for (const name of [kvStreamName('sb_breakers'), streams.calls.name]) {
      await eventually(`${name}: every replica current`, async () => {
        const { cluster: placement } = await jsm.streams.info(name);
        if (!placement?.leader || placement.replicas?.length !== 2 || !placement.replicas.every((r) => r.current)) throw new Error(JSON.stringify(placement));
      });
    }
    const leader = (await jsm.streams.info(kvStreamName('sb_breakers'))).cluster?.leader;
    const victim = cluster!.nodes.findIndex((node) => node.name === leader);
    expect(victim).toBeGreaterThanOrEqual(0);
    cluster!.kill(victim);

    // A new leader is elected among the two survivors; the state is still there and still writable.
    const entry = await eventually('read sb_breakers after the leader died', async () => {
      const got = await breakers.get('openai.org-a');
      if (!got) throw new Error('no entry');
      return got;
    });
    expect(entry.string()).toBe('open');
    await eventually('write sb_breakers after the leader died', () => breakers.put('openai.org-a', new TextEncoder().encode('half_open')));
    const calls = await eventually('SB_CALLS info after the node loss', () => jsm.streams.info(streams.calls.name));
    expect(calls.state.messages).toBeGreaterThanOrEqual(20);
    expect(calls.cluster?.leader).not.toBe(leader);

    await cluster!.restart(victim);
    expect((await breakers.get('openai.org-a'))?.string()).toBe('half_open');
  });
});
