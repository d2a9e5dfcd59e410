/**
 * The health registry on a real three-node JetStream cluster goes on folding
 * CallEvents after the node that holds its consumer of SB_CALLS is SIGKILLed
 * and stays down: each event folded once, the replacement logged. Before, the
 * ordered consumer (one copy, on that node) stalled without ending until the
 * node came back, and the registry's breakers went blind; make test-cluster's
 * node-loss file caught it once, when the consumer happened to live on the
 * node it killed.
 */
import { Writable } from 'node:stream';
import { JSONCodec, type JetStreamManager, type NatsConnection } from 'nats';
import { parseConfig } from '../../lib/config/load';
import { startHealthRegistry, type HealthRegistry } from '../../lib/health-registry/registry';
import { createLogger } from '../../lib/log';
import { ensureStreams, streams } from '../../lib/nats/streams';
import { startOwnNatsCluster, type OwnNatsCluster } from '../harness/nats-cluster';
import { eventually, switchboardConfig } from '../harness/switchboard';
import { callEvent } from './call-events';

jest.setTimeout(180_000);

const codec = JSONCodec<unknown>();
const clusterName = 'registry-node-loss';

describe('the health registry when the node holding its consumer dies', () => {
  let own: OwnNatsCluster | undefined;
  let publisher: NatsConnection;
  let jsm: JetStreamManager;
  const registries: HealthRegistry[] = [];
  const warnings: string[] = [];

  const startRegistry = async (name: string) => {
    const log = createLogger({
      level: 'warn',
      destination: new Writable({ write: (chunk: Buffer, _encoding, done) => (warnings.push(chunk.toString()), done()) }),
    });
    const config = parseConfig(switchboardConfig('http://127.0.0.1:9'), 'test config');
    const registry = await startHealthRegistry({ nats: await own!.connect(name), config, cluster: clusterName, log });
    registries.push(registry);
    return registry;
  };
  // The publisher may be on the killed node, or SB_CALLS electing a leader: retried until stored, its msgID stores it once.
  const publishEvents = async (count: number) => {
    for (let i = 0; i < count; i++) {
      const event = callEvent({ cluster: clusterName, upstream: 'openai/org-a', model: 'gpt-4o-mini', at: Date.now() });
      await eventually(
        `${event.eventId} stored`,
        () =>
          publisher
            .jetstream()
            .publish('sb.call.openai.org-a', codec.encode(event), { msgID: event.eventId, timeout: 1_000 })
            .catch(() => undefined),
        60_000,
      );
    }
  };

  beforeAll(async () => {
    own = await startOwnNatsCluster('registry-node-loss');
    publisher = await own.connect('registry-node-loss-publisher');
    jsm = await ensureStreams(publisher);
  });
  afterAll(async () => {
    for (const registry of registries) await registry.close();
    await own?.close();
  });

  it('folds every CallEvent once after that node is SIGKILLed, and folds none once closed', async () => {
    const registry = await startRegistry('registry-node-loss-worker');
    await publishEvents(5);
    await eventually('the first 5 CallEvents folded', () => registry.folded() === 5);

    // The registry's ordered consumer is the only consumer of SB_CALLS here; it is one copy, on one node.
    const holder = await own!.holderOfOnlyConsumer(jsm, streams.calls.name);
    expect(holder).toBeGreaterThanOrEqual(0);
    own!.cluster.kill(holder);
    await publishEvents(10);
    await eventually('the 10 CallEvents stored after the kill folded', () => registry.folded() >= 15, 60_000);
    expect(registry.folded()).toBe(15);
    expect(warnings.join('')).toContain('re-creating it after the last event read');

    await registries.splice(registries.indexOf(registry), 1)[0]!.close();
    await publishEvents(1);
    // A registry started now replays the whole window, the last event too: by then the closed one would have folded it.
    const observer = await startRegistry('registry-node-loss-observer');
    await eventually('the observer folding all 16 CallEvents', () => observer.folded() === 16);
    expect(registry.folded()).toBe(15);
  });
});
