/**
 * What survives the loss of one NATS node of three, stream by stream and
 * bucket by bucket (every one Switchboard creates, three copies each), on the
 * production topology (services/cluster-stack). For each: markers written, the
 * node leading it SIGKILLed, then measured — the markers still read back and
 * the message count kept, how long until a write is accepted again (a new
 * leader elected among the survivors), and how long the restarted node takes
 * to be a current replica again. A node takes all its leaderships with it,
 * so the streams and buckets it leads are measured by one kill. Then the node
 * leading SB_CALLS is SIGKILLed alone under call traffic through both
 * gateways: no client error, every accepted call ends, none loses a
 * CallEvent, and each worker's health registry folds every CallEvent stored
 * after the kill. Prints the table docs/deploy.md keeps.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { JetStreamClient, JetStreamManager, NatsConnection } from 'nats';
import { describeMachine } from '../../bench/suite/machine';
import { requestHealthViews } from '../../lib/health-registry/health-view';
import { connectNats } from '../../lib/nats/connect';
import { openBucket } from '../../lib/nats/kv';
import { whileJetStreamSettles } from '../../lib/nats/replicas';
import { streams } from '../../lib/nats/streams';
import { waitFor } from '../../lib/ports';
import { switchboardBuckets } from '../../services/cluster-stack/jetstream-setup';
import { readClusterStackEnv } from '../../services/cluster-stack/settings';
import { startClusterStack, stopClusterStack, type ClusterStack } from '../../services/cluster-stack/stack';
import { chooseStackConfig } from '../../services/local-stack/stack-config';
import { callsMissingEvents, llmCalls, storedCallEvents, untilNoCallRunning } from './chaos-calls';
import { writeChaosConfig } from './chaos-config';
import { describeErrors, startTraffic } from './chaos-traffic';
import { publishUntilAccepted, readMarkers, survivalTargets, untilCaughtUp, writeMarkers, type SurvivalTarget } from './node-loss';

jest.setTimeout(600_000);

// make test-cluster runs files one after another; production-topology takes SB_CLUSTER_PORT_BASE's range,
// calls-leader-and-worker the one below, this file the one below that (default 29000).
const PORT_BASE = Number(process.env.SB_CLUSTER_PORT_BASE ?? 31_000) - 2_000;
/** The bucket `switchboard config push` writes to in docs/deploy.md's examples (SB_CONFIG_BUCKET; the cluster stack runs without one). */
const CONFIG_BUCKET = 'sb_config';
/** How long a write may take to be accepted after a node loss, and a restarted node to catch up, on a loaded machine. */
const RECOVERY_MS = 90_000;

interface Row {
  label: string;
  killed: string;
  before: number;
  after: number;
  markersRead: number;
  writeMs: number;
  newLeader: string;
  caughtUpMs: number;
}

describe('losing one NATS node of three', () => {
  let dataDir = '';
  let stack: ClusterStack;
  let temporal: Client;
  let targets: SurvivalTarget[] = [];
  /** One connection per node, so a measurement can go through a node that survives. */
  const perNode: { nc: NatsConnection; js: JetStreamClient; jsm: JetStreamManager }[] = [];
  const say = (line: string) => process.stdout.write(`  ${line}\n`);
  const via = (node: number) => perNode[node]!;
  const leaderOf = async (jsm: JetStreamManager, stream: string) => {
    const leader = (await whileJetStreamSettles(() => jsm.streams.info(stream))).cluster?.leader;
    return stack.nats.nodes.findIndex((node) => node.name === leader);
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'sb-node-loss-'));
    const configPath = writeChaosConfig(dataDir);
    const env = readClusterStackEnv({ ...process.env, SB_CLUSTER_DATA_DIR: dataDir, SB_CLUSTER_PORT_BASE: String(PORT_BASE), SB_CONFIG: configPath });
    stack = await startClusterStack(env, say);
    temporal = new Client({ connection: await Connection.connect({ address: stack.temporalAddress }) });
    for (const node of stack.nats.nodes) {
      const nc = await connectNats({ url: node.url, name: `node-loss-${node.name}`, replicas: 3, reconnectForever: true });
      perNode.push({ nc, js: nc.jetstream(), jsm: await nc.jetstreamManager() });
    }
    const { config } = chooseStackConfig({ configPath, fakeVendorUrl: stack.fakeVendorUrl!, mode: 'auto', env: process.env });
    const buckets = [...switchboardBuckets(config), { bucket: CONFIG_BUCKET, options: {} }];
    // Opened as the workers, gateways and CLI open them (the stack created all but the config bucket).
    for (const { bucket, options } of buckets) await openBucket(perNode[0]!.nc, bucket, options);
    targets = survivalTargets(buckets.map((b) => b.bucket));
  });
  afterAll(async () => {
    for (const { nc } of perNode) await nc.close().catch(() => undefined);
    await temporal?.connection.close().catch(() => undefined);
    await stopClusterStack(dataDir);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps every stream and bucket readable and writable when the node leading it is SIGKILLed, and the node catches up', async () => {
    const rows: Row[] = [];
    const pending = new Set(targets);
    for (let round = 0; pending.size > 0; round++) {
      // The node leading most of what is still to measure; the streams and buckets it leads go with it.
      const leaders = new Map<SurvivalTarget, number>();
      for (const target of pending) leaders.set(target, await leaderOf(via(0).jsm, target.stream));
      const counts = [0, 1, 2].map((node) => [...leaders.values()].filter((l) => l === node).length);
      const victim = counts.indexOf(Math.max(...counts));
      const survivor = via((victim + 1) % 3);
      const group = [...pending].filter((t) => leaders.get(t) === victim);
      const tag = `round-${round}`;
      const markers = await Promise.all(group.map((t) => writeMarkers(survivor.js, survivor.jsm, t, tag)));
      const killed = stack.nats.nodes[victim]!.name;
      const killedAt = Date.now();
      stack.nats.kill(victim);
      say(`SIGKILLed ${killed}, the leader of ${group.map((t) => t.label).join(', ')}`);

      const measured = await Promise.all(
        group.map(async (target, i) => {
          const acceptedAt = await publishUntilAccepted(survivor.js, target, tag, RECOVERY_MS);
          const info = await whileJetStreamSettles(() => survivor.jsm.streams.info(target.stream));
          const markersRead = await readMarkers(survivor.jsm, target, tag, markers[i]!);
          return { target, writeMs: acceptedAt - killedAt, after: info.state.messages, newLeader: info.cluster?.leader ?? '?', markersRead };
        }),
      );
      const restartedAt = Date.now();
      await stack.nats.restart(victim);
      // Every stream and bucket, not only the group: the next kill must not find this node still behind.
      const caughtUp = await untilCaughtUp(survivor.jsm, stack.nats.nodes[victim]!, targets, restartedAt, RECOVERY_MS);
      for (const [i, m] of measured.entries()) {
        const row = { label: m.target.label, killed, before: markers[i]!.messages, after: m.after, markersRead: m.markersRead, writeMs: m.writeMs };
        rows.push({ ...row, newLeader: m.newLeader, caughtUpMs: caughtUp.get(m.target.stream)! });
        pending.delete(m.target);
      }
    }

    say('stream / bucket            leader killed  messages before → after  markers read  write accepted after  new leader  restarted node current after');
    for (const r of rows) {
      say(
        `${r.label.padEnd(26)} ${r.killed.padEnd(13)} ${`${r.before} → ${r.after}`.padEnd(24)} ${`${r.markersRead} of 3`.padEnd(13)} ${`${r.writeMs} ms`.padEnd(21)} ${r.newLeader.padEnd(11)} ${r.caughtUpMs} ms`,
      );
    }
    const { cpu, cores, loadAverageAtStart, gitCommit } = describeMachine();
    say(`measured on ${cpu} × ${cores}, load average ${loadAverageAtStart.join(' ')}, commit ${gitCommit.slice(0, 7)}`);
    expect(rows.map((r) => r.label).sort()).toEqual(targets.map((t) => t.label).sort());
    for (const r of rows) {
      expect({ label: r.label, markersRead: r.markersRead, kept: r.after >= r.before + 1 }).toEqual({ label: r.label, markersRead: 3, kept: true });
      expect(r.newLeader).not.toBe(r.killed);
    }
  });

  it('loses no CallEvent when the node leading SB_CALLS is SIGKILLed alone under call traffic', async () => {
    const traffic = startTraffic(stack.gatewayUrls);
    let foldedAtKill = new Map<string, number>();
    let lastSeqAtKill = 0;
    try {
      await waitFor('traffic flowing', async () => traffic.answeredSince(0) >= 8, 120_000);
      const victim = await leaderOf(via(0).jsm, streams.calls.name);
      expect(victim).toBeGreaterThanOrEqual(0);
      const survivor = via((victim + 1) % 3);
      foldedAtKill = await foldedByWorker(survivor.nc, stack.workerHealthUrls.length);
      lastSeqAtKill = (await survivor.jsm.streams.info(streams.calls.name)).state.last_seq;
      const killedAt = Date.now();
      stack.nats.kill(victim);
      say(`SIGKILLed ${stack.nats.nodes[victim]!.name}, the leader of SB_CALLS, under traffic through both gateways`);
      await waitFor(
        'a CallEvent stored after the kill',
        async () => (await survivor.jsm.streams.info(streams.calls.name)).state.last_seq > lastSeqAtKill,
        RECOVERY_MS,
        100,
      );
      say(`SB_CALLS storing CallEvents again ${Date.now() - killedAt} ms after the kill`);
      await waitFor('8 calls answered after the kill', async () => traffic.answeredSince(killedAt) >= 8, 120_000);
      const restartedAt = Date.now();
      await stack.nats.restart(victim);
      const atRestart = new Map([[streams.calls.name, (await survivor.jsm.streams.info(streams.calls.name)).state.last_seq]]);
      const calls = targets.filter((t) => t.stream === streams.calls.name);
      const caughtUp = await untilCaughtUp(survivor.jsm, stack.nats.nodes[victim]!, calls, restartedAt, RECOVERY_MS, atRestart);
      say(`the restarted node a current replica of SB_CALLS ${caughtUp.get(streams.calls.name)} ms after its restart, traffic still running`);
    } finally {
      await traffic.stop();
    }
    const failures = traffic.outcomes.filter((o) => !o.ok);
    say(`${traffic.outcomes.length} calls, ${failures.length} client-visible errors: ${describeErrors(failures)}`);
    expect(failures).toEqual([]);
    say(`every accepted call ended ${await untilNoCallRunning(temporal, 120_000)} ms after the traffic stopped`);

    // Each worker's health registry reads SB_CALLS through a consumer of its own: it must go on folding every event.
    const storedSinceKill = (await via(0).jsm.streams.info(streams.calls.name)).state.last_seq - lastSeqAtKill;
    let lastFolded = new Map<string, number>();
    await waitFor(
      `every worker's health registry folding the ${storedSinceKill} CallEvents stored since the kill`,
      async () => {
        lastFolded = await foldedByWorker(via(0).nc, foldedAtKill.size);
        return [...foldedAtKill].every(([worker, before]) => (lastFolded.get(worker) ?? 0) - before >= storedSinceKill);
      },
      60_000,
      500,
    ).catch((error: unknown) => {
      // Say how far each registry got: stalled (its consumer stopped after the leader changed) or short by a few.
      const progress = [...foldedAtKill]
        .map(([worker, before]) => `${worker}: ${(lastFolded.get(worker) ?? before) - before} folded since the kill`)
        .join('; ');
      throw new Error(`${error instanceof Error ? error.message : String(error)} (${progress})`);
    });
    say(`both workers' health registries folded the ${storedSinceKill} CallEvents stored since the kill`);
    const completed = await llmCalls(temporal, 'Completed');
    const missing = callsMissingEvents(completed, await storedCallEvents(via(0).jsm));
    const dropped = await outboxDropped([...stack.workerHealthUrls, ...stack.gatewayUrls]);
    say(`${completed.length} llmCall workflows completed, ${missing.length} without all their CallEvents; ${dropped} records dropped by an outbox`);
    expect(completed.length).toBeGreaterThanOrEqual(traffic.outcomes.length);
    expect(missing).toEqual([]);
    expect(dropped).toBe(0);
  });
});

/** CallEvents each worker's health registry has folded, by worker, once all `workers` answer. */
async function foldedByWorker(nats: NatsConnection, workers: number): Promise<Map<string, number>> {
  let folded = new Map<string, number>();
  await waitFor(
    `${workers} workers answering for their health view`,
    async () => {
      folded = new Map((await requestHealthViews(nats, undefined)).map((view) => [view.worker, view.folded]));
      return folded.size >= workers;
    },
    30_000,
    250,
  );
  return folded;
}

/** sb_outbox_dropped_total summed over the processes' /metrics: records no retry brought to JetStream. */
async function outboxDropped(urls: string[]): Promise<number> {
  let dropped = 0;
  for (const url of urls) {
    const text = await (await fetch(`${url}/metrics`)).text();
    for (const line of text.split('\n')) if (line.startsWith('sb_outbox_dropped_total')) dropped += Number(line.split(' ').at(-1));
  }
  return dropped;
}
