/**
 * Chaos on the production topology: under steady traffic through both
 * gateways (streaming included), SIGKILL the nats-server leading
 * `sb_breakers`, then make an organisation fail. Its breaker must still open
 * for every pod (two workers, two gateways' in-process workers), the
 * transition must still arrive on `sb.breaker.>`, and no client may see an
 * error: no gateway was killed.
 */
import { connect, JSONCodec, type NatsConnection } from 'nats';
import OpenAI from 'openai';
import { requestHealthViews } from '../../lib/health-registry/health-view';
import { BreakerEvent } from '../../schemas/health';
import { type ChaosCluster, clusterUp } from './cluster-stack';

const PORT_BASE = 17_500;
const sickOrg = 'openai/org-a';

/** Polls `check` until it returns a value, for up to `timeoutMs`; the error says what never happened. */
async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('losing the nats-server that leads sb_breakers', () => {
  let cluster: ChaosCluster | undefined;
  let nc: NatsConnection | undefined;

  beforeAll(async () => {
    cluster = await clusterUp(PORT_BASE);
    nc = await connect({ servers: cluster.natsUrls, maxReconnectAttempts: -1 });
  }, 240_000);

  afterAll(async () => {
    await nc?.close().catch(() => undefined);
    await fetch(`${cluster?.fakeVendorUrl}/_admin/faults`, { method: 'DELETE' }).catch(() => undefined);
    await cluster?.down();
  });

  it('still opens the breaker of an organisation that dies afterwards on every pod, with events on sb.breaker.>, and no client error', async () => {
    const events: BreakerEvent[] = [];
    const codec = JSONCodec<unknown>();
    const tap = nc!.subscribe('sb.breaker.>');
    void (async () => {
      for await (const m of tap) {
        const parsed = BreakerEvent.safeParse(codec.decode(m.data));
        if (parsed.success) events.push(parsed.data);
      }
    })();

    const clients = cluster!.gatewayUrls.map((url) => new OpenAI({ baseURL: `${url}/v1`, apiKey: 'sb-demo-key-acme', maxRetries: 0, timeout: 60_000 }));
    const outcomes = { ok: 0, failed: [] as string[] };
    let running = true;
    // Paced under the demo key's anonymous budget (60 requests/min, shared by both gateways): 2 lanes, one call per 2.5 s each.
    const loop = async (lane: number) => {
      for (let i = 0; running; i += 1) {
        const startedAt = Date.now();
        const client = clients[(lane + i) % clients.length]!;
        const content = `chaos lane ${lane} call ${i}: say hello`;
        try {
          if (i % 3 === 0) {
            const stream = await client.chat.completions.create({ model: 'chat-default', messages: [{ role: 'user', content }], stream: true });
            let text = '';
            for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
            if (text.length === 0) throw new Error('stream ended without text');
          } else {
            const answer = await client.chat.completions.create({ model: 'chat-default', messages: [{ role: 'user', content }] });
            if (!answer.choices[0]?.message.content) throw new Error('answer without text');
          }
          outcomes.ok += 1;
        } catch (error) {
          outcomes.failed.push(`${cluster!.gatewayUrls[(lane + i) % clients.length]}: ${error instanceof Error ? error.message : String(error)}`);
        }
        await new Promise((r) => setTimeout(r, Math.max(0, startedAt + 2_500 - Date.now())));
      }
    };
    const lanes = [0, 1].map(loop);
    try {
      await until('steady traffic (4 answers)', async () => (outcomes.ok >= 4 ? true : undefined), 60_000);

      const jsm = await nc!.jetstreamManager();
      const leader = (await jsm.streams.info('KV_sb_breakers')).cluster?.leader;
      expect(leader).toMatch(/^nats-[123]$/);
      const killedAt = Date.now();
      cluster!.kill(leader!);

      // Writes to sb_breakers work again once a new leader is elected: the time it took is the recovery.
      const newLeader = await until('a new sb_breakers leader', async () => {
        const now = (await jsm.streams.info('KV_sb_breakers')).cluster?.leader;
        return now && now !== leader ? now : undefined;
      }, 60_000);
      console.log(`sb_breakers: leader ${leader} SIGKILLed, ${newLeader} leads after ${Date.now() - killedAt} ms`);

      const faultResponse = await fetch(`${cluster!.fakeVendorUrl}/_admin/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ organisation: sickOrg, fault: { kind: 'status', status: 503 } }),
      });
      expect(faultResponse.status).toBe(201);
      const failedAt = Date.now();

      const opened = await until(`a breaker of ${sickOrg} opening on sb.breaker.>`, async () => events.find((e) => e.upstream === sickOrg && e.to === 'open'), 90_000);
      // Every pod — two workers and the two gateways' in-process workers — sees it open.
      const views = await until(`every pod seeing ${sickOrg} open`, async () => {
        const replies = await requestHealthViews(nc!, undefined, 1_000);
        const seeing = replies.filter((r) => r.breakers.some((b) => b.upstream === sickOrg && b.state === 'open'));
        return replies.length >= 4 && seeing.length === replies.length ? replies : undefined;
      }, 60_000);
      console.log(`${sickOrg} failing: breaker ${opened.model ?? ''} open after ${opened.at - failedAt} ms, seen open by ${views.length} pods`);
      expect(views.length).toBeGreaterThanOrEqual(4);
    } finally {
      running = false;
      await Promise.all(lanes);
      tap.unsubscribe();
    }
    console.log(`client answers ${outcomes.ok}, errors ${outcomes.failed.length}`);
    expect(outcomes.failed).toEqual([]);
    expect(outcomes.ok).toBeGreaterThan(4);
  });
});
