/**
 * Chaos on the production topology (`make test-cluster`): three nats-servers
 * in one JetStream cluster, a Temporal server on PostgreSQL, two workers and
 * two gateways (services/cluster-stack), under steady traffic from the
 * official `openai` client through both gateways, streams included. Parts are
 * broken on purpose one at a time, then two at once; what the outside saw is
 * asserted — the fake vendor's request log, the events on `sb.breaker.>`, the
 * executions left in Temporal.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { JSONCodec, type NatsConnection } from 'nats';
import OpenAI from 'openai';
import { connectNats } from '../../lib/nats/connect';
import { waitFor } from '../../lib/ports';
import { BreakerEvent } from '../../schemas/health';
import { vendorAdmin } from '../../services/demo/vendor-admin';
import { killRecorded } from '../../services/local-stack/processes';
import { readClusterStackEnv } from '../../services/cluster-stack/settings';
import { startClusterStack, stopClusterStack, type ClusterStack } from '../../services/cluster-stack/stack';

/** The probe budget of a half-open period (breaker.halfOpenMaxConcurrent; the cluster stack runs the default). */
const HALF_OPEN_MAX_CONCURRENT = 1;

jest.setTimeout(600_000);

interface Outcome {
  gateway: number;
  ok: boolean;
  error?: string;
  at: number;
}

/** Closed-loop callers on every gateway (one plain, one streaming each) until stopped. */
function startTraffic(gatewayUrls: string[]) {
  const outcomes: Outcome[] = [];
  let running = true;
  const loop = async (gateway: number, stream: boolean) => {
    const client = new OpenAI({ baseURL: `${gatewayUrls[gateway]}/v1`, apiKey: 'sb-demo-key-acme', maxRetries: 0, timeout: 60_000 });
    for (let i = 0; running; i++) {
      const content = `chaos ${gateway}-${stream ? 's' : 'p'}-${i}`;
      // Named users, each well inside its segment's limit: the limits are not what this suite tests.
      const user = `chaos-${gateway}-${stream ? 's' : 'p'}-${i % 40}`;
      try {
        if (stream) {
          const chunks = await client.chat.completions.create({ model: 'chat-default', stream: true, user, messages: [{ role: 'user', content }] });
          let finished = false;
          for await (const chunk of chunks) if (chunk.choices[0]?.finish_reason) finished = true;
          if (!finished) throw new Error('stream ended without a finish reason');
        } else {
          await client.chat.completions.create({ model: 'chat-default', user, messages: [{ role: 'user', content }] });
        }
        outcomes.push({ gateway, ok: true, at: Date.now() });
      } catch (error) {
        outcomes.push({ gateway, ok: false, error: error instanceof Error ? error.message : String(error), at: Date.now() });
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  };
  const loops = gatewayUrls.flatMap((_, gateway) => [loop(gateway, false), loop(gateway, true)]);
  return {
    outcomes,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** "N × message" per distinct error, most frequent first. */
function describeErrors(failures: Outcome[]): string {
  const counts = new Map<string, number>();
  for (const f of failures) counts.set(f.error ?? '?', (counts.get(f.error ?? '?') ?? 0) + 1);
  return (
    [...counts]
      .sort((a, b) => b[1] - a[1])
      .map(([message, n]) => `${n} × ${message.slice(0, 120)}`)
      .join('; ') || 'none'
  );
}

/** How many requests the fake vendor saw for `organisation` since `sinceMs` (its own request log). */
async function requestsTo(vendorUrl: string, organisation: string, sinceMs: number): Promise<number> {
  const query = new URLSearchParams({ organisation, since: String(sinceMs), limit: '0' });
  const response = await fetch(`${vendorUrl}/_admin/requests?${query}`);
  if (!response.ok) throw new Error(`fake vendor request log: ${response.status}`);
  return ((await response.json()) as { count: number }).count;
}

describe('the production topology, broken on purpose', () => {
  let dataDir = '';
  let stack: ClusterStack;
  let nats: NatsConnection;
  let temporal: Client;
  const say = (line: string) => process.stdout.write(`  ${line}\n`);
  const restartMissing = async () => {
    const started = Date.now();
    stack = await startClusterStack(env());
    return Date.now() - started;
  };
  const env = () => readClusterStackEnv({ ...process.env, SB_CLUSTER_DATA_DIR: dataDir, SB_CLUSTER_PORT_BASE: process.env.SB_CLUSTER_PORT_BASE ?? '31000' });

  /** Every llmCall the traffic started has ended: none is left running. */
  const noCallLeftRunning = async (timeoutMs: number) => {
    const started = Date.now();
    await waitFor(
      'every accepted call to end',
      async () => {
        for await (const _ of temporal.workflow.list({ query: "WorkflowType = 'llmCall' AND ExecutionStatus = 'Running'" })) return false;
        return true;
      },
      timeoutMs,
      1_000,
    );
    return Date.now() - started;
  };

  beforeAll(async () => {
    // SB_CLUSTER_CHAOS_DIR keeps the stack's data and logs after the run (to read what happened).
    dataDir = process.env.SB_CLUSTER_CHAOS_DIR ?? mkdtempSync(join(tmpdir(), 'sb-cluster-chaos-'));
    stack = await startClusterStack(env(), say);
    nats = await connectNats({ url: stack.nats.url, name: 'cluster-chaos', replicas: 3, reconnectForever: true });
    temporal = new Client({ connection: await Connection.connect({ address: stack.temporalAddress }) });
  });
  afterAll(async () => {
    await nats?.close().catch(() => undefined);
    await temporal?.connection.close().catch(() => undefined);
    await stopClusterStack(dataDir);
    if (!process.env.SB_CLUSTER_CHAOS_DIR) rmSync(dataDir, { recursive: true, force: true });
  });

  it('loses the NATS node leading sb_breakers, then an organisation dies: its breaker still opens for every pod and the event arrives', async () => {
    const vendor = vendorAdmin(stack.fakeVendorUrl!);
    const events: BreakerEvent[] = [];
    const codec = JSONCodec();
    const sub = nats.subscribe('sb.breaker.>');
    void (async () => {
      for await (const message of sub) events.push(BreakerEvent.parse(codec.decode(message.data)));
    })();
    const traffic = startTraffic(stack.gatewayUrls);
    try {
      await waitFor('traffic flowing', async () => traffic.outcomes.filter((o) => o.ok).length >= 8, 120_000);
      const jsm = await nats.jetstreamManager();
      const leader = (await jsm.streams.info('KV_sb_breakers')).cluster?.leader;
      const victim = stack.nats.nodes.findIndex((node) => node.name === leader);
      expect(victim).toBeGreaterThanOrEqual(0);
      const killedAt = Date.now();
      stack.nats.kill(victim);
      say(`SIGKILLed ${leader}, the leader of KV_sb_breakers`);
      await waitFor('calls answered after the node loss', async () => traffic.outcomes.filter((o) => o.ok && o.at > killedAt + 2_000).length >= 8, 120_000);

      const failedAt = Date.now();
      await vendor.setFaults([{ organisation: 'openai/org-b', fault: { kind: 'status', status: 503 } }]);
      await waitFor(
        'org-b opened on sb.breaker.>',
        async () => events.some((e) => e.upstream === 'openai/org-b' && e.to === 'open' && e.at >= failedAt),
        120_000,
      );
      say(`org-b opened ${Date.now() - failedAt} ms after it began failing (one node of three down)`);
      // Every pod reads the breaker from the bucket that lost its leader: after the open, org-b sees only probes.
      const openedAt = Date.now();
      await waitFor('20 more answered calls', async () => traffic.outcomes.filter((o) => o.ok && o.at > openedAt).length >= 20, 120_000);
      // Attempts that picked org-b before a pod's KV watch saw the open may still arrive within this.
      const settledAt = openedAt + 2_000;
      const sickRequests = await requestsTo(stack.fakeVendorUrl!, 'openai/org-b', settledAt);
      // Half-open probes only: at most the probe budget per half-open period the breaker went through.
      const halfOpenPeriods = events.filter((e) => e.upstream === 'openai/org-b' && e.to === 'half_open' && e.at >= openedAt).length;
      say(`org-b got ${sickRequests} requests during the next 20 answered calls, in ${halfOpenPeriods} half-open periods`);
      expect(sickRequests).toBeLessThanOrEqual(halfOpenPeriods * HALF_OPEN_MAX_CONCURRENT);
    } finally {
      await traffic.stop();
      sub.unsubscribe();
      await vendor.clearFaults();
    }
    const failures = traffic.outcomes.filter((o) => !o.ok);
    say(`${traffic.outcomes.length} calls, ${failures.length} client-visible errors: ${describeErrors(failures)}`);
    expect(failures).toEqual([]);
    say(`every accepted call ended ${await noCallLeftRunning(120_000)} ms after the traffic stopped`);
    say(`the NATS node was back in ${await restartMissing()} ms`);
  });

  it("loses a worker and a gateway at once: only the killed gateway's requests fail, every accepted call ends", async () => {
    const traffic = startTraffic(stack.gatewayUrls);
    let killedAt = 0;
    try {
      await waitFor('traffic flowing', async () => traffic.outcomes.filter((o) => o.ok).length >= 8, 120_000);
      killedAt = Date.now();
      expect(killRecorded(stack.pidFile('worker-1'))).toBe(true);
      expect(killRecorded(stack.pidFile('gateway-2'))).toBe(true);
      await waitFor(
        'gateway-1 answering after the kills',
        async () => traffic.outcomes.filter((o) => o.gateway === 0 && o.ok && o.at > killedAt + 1_000).length >= 10,
        120_000,
      );
    } finally {
      await traffic.stop();
    }
    const onSurvivor = traffic.outcomes.filter((o) => o.gateway === 0 && !o.ok);
    const onKilled = traffic.outcomes.filter((o) => o.gateway === 1 && !o.ok);
    say(
      `gateway-1: ${onSurvivor.length} errors (${describeErrors(onSurvivor)}); gateway-2 (killed): ${onKilled.length} failed requests, in flight or sent after the kill (${describeErrors(onKilled)})`,
    );
    expect(onSurvivor).toEqual([]);
    say(`every accepted call ended ${await noCallLeftRunning(120_000)} ms after the traffic stopped`);
    say(`worker-1 and gateway-2 ready again in ${await restartMissing()} ms`);
  });

  it('survives PostgreSQL restarting under Temporal: calls resume and none is left running', async () => {
    const traffic = startTraffic(stack.gatewayUrls);
    let restartedAt = 0;
    try {
      await waitFor('traffic flowing', async () => traffic.outcomes.filter((o) => o.ok).length >= 8, 120_000);
      expect(killRecorded(stack.pidFile('postgres'))).toBe(true);
      const downAt = Date.now();
      await restartMissing();
      restartedAt = Date.now();
      say(`PostgreSQL down and back in ${restartedAt - downAt} ms`);
      await waitFor('calls answered after the restart', async () => traffic.outcomes.filter((o) => o.ok && o.at > restartedAt).length >= 10, 120_000);
      say(`first answer ${traffic.outcomes.find((o) => o.ok && o.at > restartedAt)!.at - restartedAt} ms after PostgreSQL was back`);
    } finally {
      await traffic.stop();
    }
    const failures = traffic.outcomes.filter((o) => !o.ok);
    say(`${traffic.outcomes.length} calls, ${failures.length} client-visible errors while PostgreSQL was away: ${describeErrors(failures)}`);
    say(`every accepted call ended ${await noCallLeftRunning(180_000)} ms after the traffic stopped`);
  });
});
