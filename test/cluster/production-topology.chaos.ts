/**
 * Chaos on the production topology (`make test-cluster`): three nats-servers
 * in one JetStream cluster, a Temporal server on PostgreSQL, two workers and
 * two gateways (services/cluster-stack), under steady traffic from the
 * official `openai` client through both gateways, streams included. Parts are
 * broken on purpose one at a time, then two at once; what the outside saw is
 * asserted — the fake vendor's request log, the events on `sb.breaker.>`, the
 * executions left in Temporal. During every fault a site planner chain is
 * mid-way (chaos-chain.ts): it must complete, and each of its calls.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { JSONCodec, type NatsConnection } from 'nats';
import { connectNats } from '../../lib/nats/connect';
import { waitFor } from '../../lib/ports';
import { BreakerEvent } from '../../schemas/health';
import { vendorAdmin } from '../../services/demo/vendor-admin';
import { killRecorded } from '../../services/local-stack/processes';
import { readClusterStackEnv } from '../../services/cluster-stack/settings';
import { startClusterStack, stopClusterStack, type ClusterStack } from '../../services/cluster-stack/stack';
import { localAdmissions, sendBurst, untilAdmissionShared } from './chaos-admission';
import { startChainUnderChaos } from './chaos-chain';
import { USER_LIMIT, USER_REFILL_MS, writeChaosConfig } from './chaos-config';
import { describeErrors, startTraffic } from './chaos-traffic';

/** The probe budget of a half-open period (breaker.halfOpenMaxConcurrent; the cluster stack runs the default). */
const HALF_OPEN_MAX_CONCURRENT = 1;
/** How long a chain may take to end after its fault (a killed worker's activities wait out their heartbeat timeout). */
const CHAIN_END_MS = 180_000;

jest.setTimeout(600_000);

/** How many requests the fake vendor saw for `organisation` since `sinceMs` (its own request log). */
async function requestsTo(vendorUrl: string, organisation: string, sinceMs: number): Promise<number> {
  const query = new URLSearchParams({ organisation, since: String(sinceMs), limit: '0' });
  const response = await fetch(`${vendorUrl}/_admin/requests?${query}`);
  if (!response.ok) throw new Error(`fake vendor request log: ${response.status}`);
  return ((await response.json()) as { count: number }).count;
}

describe('the production topology, broken on purpose', () => {
  let dataDir = '';
  let configPath = '';
  let stack: ClusterStack;
  let nats: NatsConnection;
  let temporal: Client;
  const say = (line: string) => process.stdout.write(`  ${line}\n`);
  const restartMissing = async () => {
    const started = Date.now();
    stack = await startClusterStack(env());
    return Date.now() - started;
  };
  const env = () =>
    readClusterStackEnv({
      ...process.env,
      SB_CLUSTER_DATA_DIR: dataDir,
      SB_CLUSTER_PORT_BASE: process.env.SB_CLUSTER_PORT_BASE ?? '31000',
      SB_CONFIG: configPath,
    });
  const chainVia = (gateway: number) => startChainUnderChaos({ gatewayUrls: stack.gatewayUrls, via: gateway, vendor: vendorAdmin(stack.fakeVendorUrl!) });

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
  /** The index of the node leading a stream's RAFT group, as the survivors tell it. */
  const leaderOf = async (stream: string) => {
    const leader = (await (await nats.jetstreamManager()).streams.info(stream)).cluster?.leader;
    return { name: leader, index: stack.nats.nodes.findIndex((node) => node.name === leader) };
  };

  beforeAll(async () => {
    // SB_CLUSTER_CHAOS_DIR keeps the stack's data and logs after the run (to read what happened).
    dataDir = process.env.SB_CLUSTER_CHAOS_DIR ?? mkdtempSync(join(tmpdir(), 'sb-cluster-chaos-'));
    configPath = writeChaosConfig(dataDir);
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
    const chain = await chainVia(0);
    try {
      await waitFor('traffic flowing', async () => traffic.answeredSince(0) >= 8, 120_000);
      await chain.midway();
      const leader = await leaderOf('KV_sb_breakers');
      expect(leader.index).toBeGreaterThanOrEqual(0);
      const killedAt = Date.now();
      stack.nats.kill(leader.index);
      say(`SIGKILLed ${leader.name}, the leader of KV_sb_breakers, with chain ${chain.id} mid-way`);
      await waitFor('calls answered after the node loss', async () => traffic.answeredSince(killedAt + 2_000) >= 8, 120_000);
      say(`calls answered again ${traffic.outcomes.find((o) => o.ok && o.at > killedAt)!.at - killedAt} ms after the kill`);

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
      await waitFor('20 more answered calls', async () => traffic.answeredSince(openedAt) >= 20, 120_000);
      // Attempts that picked org-b before a pod's KV watch saw the open may still arrive within this.
      const settledAt = openedAt + 2_000;
      const sickRequests = await requestsTo(stack.fakeVendorUrl!, 'openai/org-b', settledAt);
      // Half-open probes only: at most the probe budget per half-open period the breaker went through.
      const halfOpenPeriods = events.filter((e) => e.upstream === 'openai/org-b' && e.to === 'half_open' && e.at >= openedAt).length;
      say(`org-b got ${sickRequests} requests during the next 20 answered calls, in ${halfOpenPeriods} half-open periods`);
      expect(sickRequests).toBeLessThanOrEqual(halfOpenPeriods * HALF_OPEN_MAX_CONCURRENT);
      say(await chain.finished(temporal, CHAIN_END_MS));
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

  it("loses the NATS node leading sb_admission: a user's limit still holds across both gateways", async () => {
    const traffic = startTraffic(stack.gatewayUrls);
    const chain = await chainVia(1);
    // No long run of digits: a 13-digit timestamp that passes Luhn is masked as a card number before the vendor sees it.
    const user = `limited-${randomUUID().slice(0, 8)}`;
    const burstSize = 3 * USER_LIMIT;
    try {
      await waitFor('traffic flowing', async () => traffic.answeredSince(0) >= 8, 120_000);
      await chain.midway();
      const leader = await leaderOf('KV_sb_admission');
      expect(leader.index).toBeGreaterThanOrEqual(0);
      const killedAt = Date.now();
      stack.nats.kill(leader.index);
      say(`SIGKILLed ${leader.name}, the leader of KV_sb_admission, with chain ${chain.id} mid-way`);
      await waitFor(
        'a new leader of KV_sb_admission',
        async () => {
          const now = await leaderOf('KV_sb_admission');
          return now.index >= 0 && now.name !== leader.name;
        },
        60_000,
        250,
      );
      say(`KV_sb_admission led by a survivor ${Date.now() - killedAt} ms after the kill`);
      const sharedMs = await untilAdmissionShared(stack.gatewayUrls, 5, 120_000);
      say(`both gateways admitting on the shared limits again ${Date.now() - killedAt} ms after the kill (waited ${sharedMs} ms)`);

      const localBefore = await localAdmissions(stack.gatewayUrls);
      const burst = await sendBurst(stack.gatewayUrls, { user, marker: user, count: burstSize });
      const localDuring = (await localAdmissions(stack.gatewayUrls)) - localBefore;
      const admitted = burst.answers.filter((a) => a.status === 200);
      const refused = burst.answers.filter((a) => a.status === 429);
      say(
        `a user limited to ${USER_LIMIT}/min sent ${burstSize} through both gateways in ${burst.ms} ms: ${admitted.length} admitted (gateways ${admitted.map((a) => a.gateway + 1).join(',')}), ${refused.length} refused; ${localDuring} admissions on a pod's own limiter meanwhile`,
      );
      // Within one refill period the bucket cannot have won back a request.
      expect(burst.ms).toBeLessThan(USER_REFILL_MS);
      expect(admitted).toHaveLength(USER_LIMIT);
      expect(refused).toHaveLength(burstSize - USER_LIMIT);
      for (const r of refused) {
        expect(r.code).toBe('requests_per_minute');
        expect(r.message).toContain('user (untrusted)');
      }
      // The vendor saw exactly the admitted requests.
      const seen = new Set((await vendorAdmin(stack.fakeVendorUrl!).requests(user, true)).map((r) => /burst (\d+)/.exec(r.promptText ?? '')?.[1]));
      expect(seen.size).toBe(USER_LIMIT);
      say(await chain.finished(temporal, CHAIN_END_MS));
    } finally {
      await traffic.stop();
      await vendorAdmin(stack.fakeVendorUrl!).clearFaults();
    }
    const failures = traffic.outcomes.filter((o) => !o.ok);
    say(`${traffic.outcomes.length} calls, ${failures.length} client-visible errors: ${describeErrors(failures)}`);
    expect(failures).toEqual([]);
    say(`every accepted call ended ${await noCallLeftRunning(120_000)} ms after the traffic stopped`);
    say(`the NATS node was back in ${await restartMissing()} ms`);
  });

  it("loses a worker and a gateway at once: only the killed gateway's requests fail, every accepted call and the chain it started end", async () => {
    const traffic = startTraffic(stack.gatewayUrls);
    // Started through the gateway about to die: the chain lives in Temporal, not in the pod.
    const chain = await chainVia(1);
    let killedAt = 0;
    try {
      await waitFor('traffic flowing', async () => traffic.answeredSince(0) >= 8, 120_000);
      await chain.midway();
      killedAt = Date.now();
      expect(killRecorded(stack.pidFile('worker-1'))).toBe(true);
      expect(killRecorded(stack.pidFile('gateway-2'))).toBe(true);
      say(`SIGKILLed worker-1 and gateway-2 with chain ${chain.id} mid-way`);
      await waitFor('gateway-1 answering after the kills', async () => traffic.answeredSince(killedAt + 1_000, 0) >= 10, 120_000);
      say(`gateway-1 answered 10 calls by ${Date.now() - killedAt} ms after the kills`);
      say(await chain.finished(temporal, CHAIN_END_MS));
    } finally {
      await traffic.stop();
      await vendorAdmin(stack.fakeVendorUrl!).clearFaults();
    }
    const onSurvivor = traffic.outcomes.filter((o) => o.gateway === 0 && !o.ok);
    const onKilled = traffic.outcomes.filter((o) => o.gateway === 1 && !o.ok);
    say(
      `${traffic.outcomes.length} calls; gateway-1: ${onSurvivor.length} errors (${describeErrors(onSurvivor)}); gateway-2 (killed): ${onKilled.length} failed requests, in flight or sent after the kill (${describeErrors(onKilled)})`,
    );
    expect(onSurvivor).toEqual([]);
    say(`every accepted call ended ${await noCallLeftRunning(120_000)} ms after the traffic stopped`);
    say(`worker-1 and gateway-2 ready again in ${await restartMissing()} ms`);
  });

  it('survives PostgreSQL restarting under Temporal: calls and the chain resume and none is left running', async () => {
    const traffic = startTraffic(stack.gatewayUrls);
    const chain = await chainVia(0);
    let restartedAt = 0;
    try {
      await waitFor('traffic flowing', async () => traffic.answeredSince(0) >= 8, 120_000);
      await chain.midway();
      expect(killRecorded(stack.pidFile('postgres'))).toBe(true);
      const downAt = Date.now();
      await restartMissing();
      restartedAt = Date.now();
      say(`PostgreSQL SIGKILLed with chain ${chain.id} mid-way, down and back in ${restartedAt - downAt} ms`);
      await waitFor('calls answered after the restart', async () => traffic.answeredSince(restartedAt) >= 10, 120_000);
      say(`first answer ${traffic.outcomes.find((o) => o.ok && o.at > restartedAt)!.at - restartedAt} ms after PostgreSQL was back`);
      say(await chain.finished(temporal, CHAIN_END_MS));
    } finally {
      await traffic.stop();
      await vendorAdmin(stack.fakeVendorUrl!).clearFaults();
    }
    const failures = traffic.outcomes.filter((o) => !o.ok);
    say(`${traffic.outcomes.length} calls, ${failures.length} client-visible errors while PostgreSQL was away: ${describeErrors(failures)}`);
    say(`every accepted call ended ${await noCallLeftRunning(180_000)} ms after the traffic stopped`);
  });
});
