/**
 * Chaos on the production topology, two faults at once: SIGKILL the
 * nats-server leading `SB_CALLS` and a worker together, under traffic
 * through both gateways (streaming included). No client error (no gateway
 * died), every accepted call ends, and no CallEvent is lost: every finished
 * llmCall workflow has its CallEvents in `SB_CALLS` (three copies). A site
 * planner chain mid-way through the kills completes, and each of its calls.
 */
import { Client, Connection } from '@temporalio/client';
import { connect, type NatsConnection } from 'nats';
import OpenAI from 'openai';
import { streams } from '../../lib/nats/streams';
import { vendorAdmin } from '../../services/demo/vendor-admin';
import { clusterPorts } from '../../services/cluster-stack/settings';
import { callsWithoutEvents, llmCalls, storedCallEvents, untilNoCallRunning } from './chaos-calls';
import { startChainUnderChaos } from './chaos-chain';
import { type ChaosCluster, clusterUp } from './cluster-stack-process';

// make test-cluster runs files one after another (maxWorkers 1); this one uses the range below SB_CLUSTER_PORT_BASE's
// (above it, Temporal's membership ports would pass the 32767 its SQL schema allows).
const PORT_BASE = Number(process.env.SB_CLUSTER_PORT_BASE ?? 31_000) - 1_000;

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('losing the SB_CALLS leader and a worker at once', () => {
  let cluster: ChaosCluster | undefined;
  let connection: Connection | undefined;
  let nc: NatsConnection | undefined;

  beforeAll(async () => {
    cluster = await clusterUp(PORT_BASE);
    connection = await Connection.connect({ address: `127.0.0.1:${clusterPorts(PORT_BASE).temporalFrontend}` });
    nc = await connect({ servers: cluster.natsUrls, maxReconnectAttempts: -1 });
  }, 240_000);

  afterAll(async () => {
    await nc?.close().catch(() => undefined);
    await connection?.close();
    await cluster?.down();
  });

  it('loses no call, no chain, no CallEvent and shows no client error', async () => {
    const clients = cluster!.gatewayUrls.map((url) => new OpenAI({ baseURL: `${url}/v1`, apiKey: 'sb-demo-key-acme', maxRetries: 0, timeout: 90_000 }));
    const outcomes = { ok: 0, failed: [] as string[] };
    let running = true;
    // Paced under the demo key's anonymous budget (60 requests/min, shared by both gateways).
    const loop = async (lane: number) => {
      for (let i = 0; running; i += 1) {
        const startedAt = Date.now();
        const client = clients[(lane + i) % 2]!;
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
          outcomes.failed.push(error instanceof Error ? error.message : String(error));
        }
        await new Promise((r) => setTimeout(r, Math.max(0, startedAt + 2_500 - Date.now())));
      }
    };
    const lanes = [0, 1].map(loop);
    const jsm = await nc!.jetstreamManager();
    const client = new Client({ connection: connection! });
    const chain = await startChainUnderChaos({ gatewayUrls: cluster!.gatewayUrls, via: 0, vendor: vendorAdmin(cluster!.fakeVendorUrl) });
    try {
      await until('steady traffic (4 answers)', async () => (outcomes.ok >= 4 ? true : undefined), 60_000);
      await chain.midway();
      const leader = (await jsm.streams.info(streams.calls.name)).cluster?.leader;
      expect(leader).toMatch(/^nats-[123]$/);
      cluster!.kill(leader!);
      cluster!.kill('worker-2');
      const after = outcomes.ok;
      await until('6 more answers after both died', async () => (outcomes.ok >= after + 6 ? true : undefined), 120_000);
      console.log(await chain.finished(client, 180_000));
    } finally {
      running = false;
      await Promise.all(lanes);
    }
    await untilNoCallRunning(client, 120_000);
    const completed = await llmCalls(client, 'Completed');
    // Every CallEvent stored, read back through the survivors.
    await until('SB_CALLS answering', async () => jsm.streams.info(streams.calls.name), 30_000);
    const missing = callsWithoutEvents(completed, await storedCallEvents(jsm));
    console.log(
      `answers ${outcomes.ok}, client errors ${outcomes.failed.length}, llmCall completed ${completed.length}, without a CallEvent ${missing.length}`,
    );
    expect(outcomes.failed).toEqual([]);
    expect(completed.length).toBeGreaterThanOrEqual(outcomes.ok);
    expect(missing).toEqual([]);
  });
});
