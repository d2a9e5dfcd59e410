/**
 * A value that is not JSON — in KV `sb_breakers`, on `sb.call.>`, under the
 * failover switch — is skipped by the pods that read it, which go on applying
 * what follows. Before, JSONCodec's decode threw inside the watch or consumer
 * loop and ended every worker and gateway (make test-cluster's node-loss file
 * found it: its markers took down the whole cluster stack).
 */
import { randomUUID } from 'node:crypto';
import { connect, JSONCodec, type NatsConnection } from 'nats';
import { breakerBucket } from '../../contracts/names';
import { watchFailover, type FailoverWatch } from '../../lib/control/failover';
import { startHealthRegistry, type HealthRegistry } from '../../lib/health-registry/registry';
import { createLogger } from '../../lib/log';
import { decodeJson } from '../../lib/nats/json-payload';
import { openBucket } from '../../lib/nats/kv';
import { ensureStreams } from '../../lib/nats/streams';
import { parseConfig } from '../../lib/config/load';
import type { BreakerState } from '../../schemas/health';
import { testStack } from '../harness/env';
import { eventually, switchboardConfig } from '../harness/switchboard';
import { callEvent } from './call-events';

const notJson = new TextEncoder().encode('survival-marker, not JSON');
const codec = JSONCodec<unknown>();

describe('decodeJson', () => {
  it.each([
    ['{"a":1}', { a: 1 }],
    ['[1,2]', [1, 2]],
    ['"text"', 'text'],
    ['not json', undefined],
    ['', undefined],
    ['{"a":', undefined],
  ])('%j → %j', (text, expected) => {
    expect(decodeJson(new TextEncoder().encode(text))).toEqual(expected);
  });
});

describe('stray values in what every pod reads', () => {
  let nats: NatsConnection;
  let registry: HealthRegistry | undefined;
  let failover: FailoverWatch | undefined;
  const cluster = `stray-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    nats = await connect({ servers: testStack().natsUrl, name: 'stray-values-test' });
    await ensureStreams(nats);
  });
  afterAll(async () => {
    await registry?.close();
    await failover?.close();
    await nats.drain();
  });

  it('the health registry skips a breaker state and a CallEvent that are not JSON and applies the next ones', async () => {
    const config = parseConfig(switchboardConfig('http://127.0.0.1:9'), 'test config');
    registry = await startHealthRegistry({ nats, config, cluster, log: createLogger({ level: 'silent' }) });
    const kv = await openBucket(nats, breakerBucket(cluster));
    await kv.put('stray', notJson);
    await nats.jetstream().publish('sb.call.openai.org-b', notJson);

    const open: BreakerState = { upstream: 'openai/org-b', state: 'open', since: Date.now(), reopenAt: Date.now() + 60_000, consecutiveTrips: 1, revision: 1 };
    await kv.put('openai/org-b', codec.encode(open));
    const event = callEvent({ cluster, upstream: 'openai/org-a', model: 'gpt-4o-mini', at: Date.now(), outcome: 'retryable', status: 503 });
    await nats.jetstream().publish('sb.call.openai.org-a', codec.encode(event));

    await eventually('the open breaker applied', () => (registry!.breakers().get('openai/org-b')?.state === 'open' ? true : undefined));
    const health = await eventually('the CallEvent folded', () => {
      const h = registry!.healthOf('openai/org-a', 'gpt-4o-mini', Date.now());
      return h.failures >= 1 ? h : undefined;
    });
    expect(health.calls).toBeGreaterThanOrEqual(1);
  });

  it('the failover watch reads a switch that is not JSON as no switch and follows the next one', async () => {
    const bucket = `sb_control_stray_${randomUUID().slice(0, 8)}`;
    const seen: unknown[] = [];
    failover = await watchFailover(nats, (value) => seen.push(value), bucket);
    const kv = await openBucket(nats, bucket);
    await kv.put('failover', notJson);
    await kv.put('failover', codec.encode({ avoid: 'openai', at: Date.now() }));
    await eventually('the switch after the stray value', () => (failover!.avoidedProvider() === 'openai' ? true : undefined));
    expect(seen[0]).toBeNull();
  });
});
