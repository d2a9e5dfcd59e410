/**
 * The health registry's copy of the breakers (a KV watch of
 * `sb_breakers_<cluster>`) on a real three-node JetStream cluster keeps taking
 * breaker states written after the node that holds the watch's consumer is
 * SIGKILLed and stays down. Unlike the pull consumer of SB_CALLS
 * (call-event-follower.ts), nats.js 2.29's KV watch is a push ordered consumer
 * with 5 s idle heartbeats: after two missed ones it creates a new consumer
 * from the next sequence (a CONSUMER.CREATE, retried on timeout, which the
 * cluster places on a live node) instead of asking the lost one for its info,
 * so it recovers on its own, about 15 s after the kill. The failover switch and
 * the config bucket use the same watch.
 */
import { JSONCodec, type JetStreamManager, type NatsConnection } from 'nats';
import { breakerBucket } from '../../contracts/names';
import { parseConfig } from '../../lib/config/load';
import { startHealthRegistry, type HealthRegistry } from '../../lib/health-registry/registry';
import { createLogger } from '../../lib/log';
import { openBucket } from '../../lib/nats/kv';
import { ensureStreams } from '../../lib/nats/streams';
import type { BreakerState } from '../../schemas/health';
import { startOwnNatsCluster, type OwnNatsCluster } from '../harness/nats-cluster';
import { eventually, switchboardConfig } from '../harness/switchboard';

jest.setTimeout(180_000);

const codec = JSONCodec<unknown>();
const clusterName = 'breaker-watch-node-loss';

describe("the health registry's breaker watch when the node holding its consumer dies", () => {
  let own: OwnNatsCluster | undefined;
  let writer: NatsConnection;
  let jsm: JetStreamManager;
  let registry: HealthRegistry | undefined;

  const breaker = (upstream: string, revision: number): BreakerState => ({
    upstream,
    state: 'open',
    since: Date.now(),
    reopenAt: Date.now() + 60_000,
    consecutiveTrips: 1,
    revision,
  });
  // The writer may be on the killed node, or the bucket electing a leader: retried until stored (the same value twice is harmless).
  const putBreaker = async (state: BreakerState) => {
    const kv = await openBucket(writer, breakerBucket(clusterName));
    await eventually(
      `${state.upstream} stored`,
      () =>
        kv
          .put(state.upstream, codec.encode(state))
          .then(() => true)
          .catch(() => undefined),
      60_000,
    );
  };

  beforeAll(async () => {
    own = await startOwnNatsCluster('breaker-watch-node-loss');
    writer = await own.connect('breaker-watch-node-loss-writer');
    jsm = await ensureStreams(writer);
  });
  afterAll(async () => {
    await registry?.close();
    await own?.close();
  });

  it('shows a breaker opened after that node is SIGKILLed', async () => {
    const config = parseConfig(switchboardConfig('http://127.0.0.1:9'), 'test config');
    registry = await startHealthRegistry({
      nats: await own!.connect('breaker-watch-node-loss-worker'),
      config,
      cluster: clusterName,
      log: createLogger({ level: 'silent' }),
    });
    await putBreaker(breaker('openai/org-a', 1));
    await eventually('the breaker written before the kill applied', () => registry!.breakers().get('openai/org-a')?.state === 'open');

    // The registry's watch is the only consumer of the bucket's stream; it is one copy, on one node.
    const { cluster } = own!;
    const holder = await own!.holderOfOnlyConsumer(jsm, `KV_${breakerBucket(clusterName)}`);
    expect(holder).toBeGreaterThanOrEqual(0);
    cluster.kill(holder);
    await putBreaker(breaker('openai/org-b', 1));
    await eventually('the breaker written after the kill applied', () => registry!.breakers().get('openai/org-b')?.state === 'open', 60_000);
    expect(registry.breakers().get('openai/org-a')?.state).toBe('open');
    // What carried it: a new consumer of the watch, on a node still up.
    const consumers = await jsm.consumers.list(`KV_${breakerBucket(clusterName)}`).next();
    expect(consumers.some((c) => c.cluster?.leader !== undefined && c.cluster.leader !== cluster.nodes[holder]!.name)).toBe(true);
  });
});
