/**
 * NATS away for 30 s under traffic, on a stack of this file's own: every call
 * is answered (admission falls back to the pod's own limiter, never a 500),
 * and once NATS is back every answered call's interaction record and
 * CallEvents are in JetStream — the outbox held them and published them with
 * their msgIDs (each stored once). A record that waits longer than
 * `outbox.maxHoldMs` is dropped, counted and logged.
 */
import { randomUUID } from 'node:crypto';
import { connect, JSONCodec, type NatsConnection } from 'nats';
import { createLogger } from '../../lib/log';
import { createOutbox } from '../../lib/nats/outbox';
import { streams } from '../../lib/nats/streams';
import { createGateway } from '../../services/gateway/server';
import { startGateway, tenantKeys, type GatewayUnderTest } from '../harness/gateway';
import { startOwnStack, type OwnStack } from '../harness/own-stack';
import { eventually } from '../harness/switchboard';
import { keepCalling } from '../harness/traffic';

const OUTAGE_MS = 30_000;

interface Outcome {
  status: number;
  callId: string | null;
  code: string | null;
}

async function call(url: string, text: string, user?: string): Promise<Outcome> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tenantKeys.acme}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'solo-only', messages: [{ role: 'user', content: text }], ...(user ? { user } : {}) }),
  });
  const body = (await response.json()) as { error?: { code: string | null } };
  return { status: response.status, callId: response.headers.get('x-switchboard-call-id'), code: body.error?.code ?? null };
}

/** Every message of `stream` (to its current end), decoded. */
async function readStream<T>(nats: NatsConnection, stream: string): Promise<T[]> {
  const info = await (await nats.jetstreamManager()).streams.info(stream);
  if (info.state.messages === 0) return [];
  const consumer = await nats.jetstream().consumers.get(stream);
  const messages = await consumer.fetch({ max_messages: 100_000, expires: 5_000 });
  const out: T[] = [];
  for await (const message of messages) {
    out.push(JSONCodec<T>().decode(message.data));
    if (message.seq >= info.state.last_seq) break;
  }
  return out;
}

describe('NATS outage: nothing lost', () => {
  let stack: OwnStack;
  let t: GatewayUnderTest;
  beforeAll(async () => {
    stack = await startOwnStack();
    // Budgets lifted: this file is about records, not limits (the pod's own limiter refusing is tested in test/gateway).
    t = await startGateway({
      gateway: { deadlineMs: 60_000, admission: { perTenant: {}, perKey: {}, anonymous: {}, segments: { untrusted: {}, trusted: {}, premium: {} } } },
    });
  }, 180_000);
  afterAll(async () => {
    await t?.close();
    await stack?.close();
  });

  it('answers every call through a 30 s outage and records every interaction and CallEvent once NATS is back', async () => {
    const m = `nats-outage-${randomUUID().slice(0, 8)}`;
    const traffic = keepCalling(
      4,
      (n, i) => call(t.url, `${m} ${n}-${i}`, i % 2 ? `u-${n}-${m}` : undefined),
      () => ({ status: 0, callId: null, code: null }),
    );
    const { outcomes } = traffic;
    await eventually('calls before the outage', () => outcomes.filter((o) => o.status === 200).length >= 8 || undefined, 60_000);

    await stack.stop('nats');
    const outageStarted = outcomes.length;
    // The outage itself: callers keep calling for 30 s.
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    const duringOutage = outcomes.length - outageStarted;
    await stack.restart();
    await eventually(
      'calls after NATS is back',
      () => outcomes.slice(outageStarted + duringOutage).filter((o) => o.status === 200).length >= 8 || undefined,
      120_000,
    );
    await traffic.stop();

    const statuses = outcomes.reduce<Record<number, number>>((acc, o) => ({ ...acc, [o.status]: (acc[o.status] ?? 0) + 1 }), {});
    console.log(`NATS outage: ${JSON.stringify(statuses)} of ${outcomes.length} calls, ${duringOutage} during the ${OUTAGE_MS / 1000} s outage`);
    expect(duringOutage).toBeGreaterThan(0);
    expect(outcomes.filter((o) => o.status !== 200)).toEqual([]);

    const answered = new Set(outcomes.map((o) => o.callId!));
    const seen = await eventually(
      'every interaction record and CallEvent in JetStream',
      async () => {
        // Just after the restart JetStream may not answer this test's own reads yet: try again.
        const read = (stream: string) => readStream<{ callId: string }>(t.nats, stream).catch(() => undefined);
        const [all, events] = [await read(streams.interactions.name), await read(streams.calls.name)];
        if (!all || !events) return undefined;
        const records = all.filter((r) => answered.has(r.callId));
        const interactions = new Set(records.map((r) => r.callId));
        const withEvents = new Set(events.map((e) => e.callId));
        const lost = [...answered].filter((id) => !interactions.has(id) || !withEvents.has(id));
        return lost.length === 0 ? { records } : undefined;
      },
      120_000,
    );
    // Each stored once: the msgID dedup held for records the outbox sent again.
    expect(seen.records).toHaveLength(answered.size);
  }, 300_000);

  it('answers 503 naming NATS, never a 500, from a gateway whose admission is closed, and to a stream, while NATS is away', async () => {
    const config = {
      ...t.config,
      gateway: {
        ...t.config.gateway,
        admission: {
          ...t.config.gateway.admission,
          onNatsUnavailable: 'closed' as const,
          segments: { ...t.config.gateway.admission.segments, untrusted: { requestsPerMinute: 1_000 } },
        },
      },
    };
    const nats = await connect({ servers: stack.natsUrl, name: 'closed-gateway', maxReconnectAttempts: -1 });
    const closed = await createGateway({ config, client: t.client, nats, taskQueue: t.taskQueue, log: createLogger({ level: 'silent' }) });
    const url = await closed.listen(0);
    try {
      expect((await call(url, `closed-before ${randomUUID().slice(0, 8)}`, 'u-closed')).status).toBe(200);
      await stack.stop('nats');
      const refused = await fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tenantKeys.acme}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'solo-only', user: 'u-closed', messages: [{ role: 'user', content: 'closed during the outage' }] }),
      });
      const body = (await refused.json()) as { error: { code: string; message: string } };
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(body.error).toEqual(expect.objectContaining({ code: 'nats_unavailable', message: expect.stringContaining('NATS is unavailable') }));
      // A streamed call needs NATS for its deltas: the open gateway refuses it the same clean way, not with a 500.
      const stream = await fetch(`${t.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tenantKeys.acme}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'solo-only', stream: true, messages: [{ role: 'user', content: 'streamed during the outage' }] }),
      });
      expect(stream.status).toBe(503);
      expect(((await stream.json()) as { error: { code: string } }).error.code).toBe('nats_unavailable');
    } finally {
      await stack.restart();
      await closed.close(1_000);
      await nats.drain().catch(() => undefined);
    }
  }, 120_000);

  it('drops a record that waited longer than maxHoldMs, and counts it', async () => {
    const dropped: string[] = [];
    const outbox = createOutbox(t.nats, {
      maxHoldMs: 1_000,
      retryEveryMs: 100,
      log: createLogger({ level: 'silent' }),
      onDropped: (subject, why) => dropped.push(`${subject} ${why}`),
    });
    await stack.stop('nats');
    try {
      const subject = `sb.probe.outbox-${randomUUID().slice(0, 8)}`;
      await outbox.publish(subject, new TextEncoder().encode('{}'), `outbox-${randomUUID()}`);
      expect(outbox.pending()).toBe(1);
      await eventually('the record dropped after maxHoldMs', () => (dropped.length ? dropped : undefined), 30_000);
      expect(dropped).toEqual([`${subject} expired`]);
      expect(outbox.dropped()).toBe(1);
    } finally {
      await stack.restart();
      await outbox.close(1_000);
    }
  }, 120_000);
});
