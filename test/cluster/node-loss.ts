/**
 * Measuring what one stream or bucket keeps through the loss of a NATS node
 * (node-loss.chaos.ts): markers written before, a write retried until
 * JetStream accepts it after, the markers read back, and the restarted node's
 * own copy caught up again.
 */
import type { JetStreamClient, JetStreamManager } from 'nats';
import { kvStreamName, whileJetStreamSettles } from '../../lib/nats/replicas';
import { streams } from '../../lib/nats/streams';
import type { NatsNode } from '../../services/cluster-stack/nats-cluster';

/** A JetStream stream (a KV bucket's included) and where a marker may be written to it. */
export interface SurvivalTarget {
  /** As the table shows it: `SB_CALLS`, `KV sb_breakers`. */
  label: string;
  stream: string;
  /** A subject of the stream no consumer of Switchboard acts on: `sb.call.survival.<tag>`, key `survival.<tag>` of a bucket. */
  subject(tag: string): string;
}

/** Every stream Switchboard creates, and `bucketNames` as KV buckets. */
export function survivalTargets(bucketNames: string[]): SurvivalTarget[] {
  return [
    ...Object.values(streams).map((s) => ({ label: s.name, stream: s.name, subject: (tag: string) => s.subjects[0].replace('>', `survival.${tag}`) })),
    ...bucketNames.map((bucket) => ({ label: `KV ${bucket}`, stream: kvStreamName(bucket), subject: (tag: string) => `$KV.${bucket}.survival.${tag}` })),
  ];
}

export interface Markers {
  seqs: number[];
  /** Messages the stream held once the markers were in. */
  messages: number;
}

const encoder = new TextEncoder();

/** Writes `count` markers to `target` and waits until JetStream has acknowledged each. */
export async function writeMarkers(js: JetStreamClient, jsm: JetStreamManager, target: SurvivalTarget, tag: string, count = 3): Promise<Markers> {
  const seqs: number[] = [];
  for (let i = 0; i < count; i++) seqs.push((await js.publish(target.subject(`${tag}-${i}`), encoder.encode(`${tag}-${i}`))).seq);
  return { seqs, messages: (await whileJetStreamSettles(() => jsm.streams.info(target.stream))).state.messages };
}

/** How many of the markers read back, each with its own text. */
export async function readMarkers(jsm: JetStreamManager, target: SurvivalTarget, tag: string, markers: Markers): Promise<number> {
  let read = 0;
  for (const [i, seq] of markers.seqs.entries()) {
    const message = await whileJetStreamSettles(() => jsm.streams.getMessage(target.stream, { seq })).catch(() => undefined);
    if (message?.string() === `${tag}-${i}`) read += 1;
  }
  return read;
}

/**
 * Publishes one more message to `target` until JetStream acknowledges it (each
 * try waits 1 s; the msgID stores a try that landed late once); returns when.
 */
export async function publishUntilAccepted(js: JetStreamClient, target: SurvivalTarget, tag: string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await js.publish(target.subject(`${tag}-after`), encoder.encode(`${tag}-after`), { msgID: `${target.stream}-${tag}-after`, timeout: 1_000 });
      return Date.now();
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${target.label}: no write accepted within ${timeoutMs} ms (${String(error)})`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** The node's own copy of each stream it holds, from its monitoring endpoint: the last sequence it stored. */
async function localLastSeqs(node: NatsNode): Promise<Map<string, number>> {
  const response = await fetch(`${node.monitorUrl}/jsz?accounts=true&streams=true`);
  if (!response.ok) throw new Error(`${node.name} /jsz: ${response.status}`);
  const body = (await response.json()) as { account_details?: { stream_detail?: { name: string; state: { last_seq: number } }[] }[] };
  return new Map((body.account_details ?? []).flatMap((a) => a.stream_detail ?? []).map((s) => [s.name, s.state.last_seq]));
}

/**
 * Waits until `node` is a current replica of every target again — the leader
 * says so, and the node's own copy holds the leader's last message (or
 * `atLeast`'s, for a stream still being written) — and returns, per stream,
 * the ms since `sinceMs` at which it was first seen caught up.
 */
export async function untilCaughtUp(
  jsm: JetStreamManager,
  node: NatsNode,
  targets: SurvivalTarget[],
  sinceMs: number,
  timeoutMs: number,
  atLeast: ReadonlyMap<string, number> = new Map(),
): Promise<Map<string, number>> {
  const caughtUp = new Map<string, number>();
  const deadline = sinceMs + timeoutMs;
  while (caughtUp.size < targets.length) {
    const local = await localLastSeqs(node).catch(() => new Map<string, number>());
    for (const target of targets.filter((t) => !caughtUp.has(t.stream))) {
      const info = await jsm.streams.info(target.stream).catch(() => undefined);
      const replica = info?.cluster?.replicas?.find((r) => r.name === node.name);
      const wanted = Math.min(info?.state.last_seq ?? Infinity, atLeast.get(target.stream) ?? Infinity);
      if (replica?.current && (local.get(target.stream) ?? -1) >= wanted) caughtUp.set(target.stream, Date.now() - sinceMs);
    }
    if (caughtUp.size === targets.length) break;
    if (Date.now() > deadline) {
      const behind = targets.filter((t) => !caughtUp.has(t.stream)).map((t) => t.label);
      throw new Error(`${node.name} not a current replica of ${behind.join(', ')} within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return caughtUp;
}
