/**
 * How many copies JetStream keeps of every stream and KV bucket Switchboard
 * creates. It is a property of the NATS deployment a connection points at
 * (1 for the embedded single server, 3 for a three-node cluster), so it is
 * attached to the connection once, where the process connects
 * (`connectNats`), and read wherever a stream or bucket is created or opened.
 */
import type { JetStreamManager, KvOptions, KV, NatsConnection, StreamConfig } from 'nats';

/** Default replica count: the embedded stack's single nats-server. */
const DEFAULT_REPLICAS = 1;
/** JetStream's own ceiling. */
const MAX_REPLICAS = 5;

const replicasByConnection = new WeakMap<NatsConnection, number>();
/** Buckets already reconciled through a connection: one stream-info round trip per bucket and process, not per open. */
const reconciledByConnection = new WeakMap<NatsConnection, Set<string>>();

/** Throws unless `replicas` is a count JetStream can have. */
export function checkReplicas(replicas: number): void {
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > MAX_REPLICAS) {
    throw new Error(`SB_NATS_REPLICAS: must be a whole number from 1 to ${MAX_REPLICAS}, got ${replicas}`);
  }
}

/** Declares the replica count for every stream and bucket created or opened through `nc`. */
export function useReplicas(nc: NatsConnection, replicas: number): void {
  checkReplicas(replicas);
  replicasByConnection.set(nc, replicas);
}

/** The replica count declared for `nc` (default 1). */
export function replicasOf(nc: NatsConnection): number {
  return replicasByConnection.get(nc) ?? DEFAULT_REPLICAS;
}

/** How long start-up keeps asking a JetStream that does not answer yet (a cluster electing leaders, a node restarting). Default 30 s. */
const JETSTREAM_START_PATIENCE_MS = 30_000;

/**
 * Runs a JetStream admin request again while JetStream times out, has no
 * responder or has no peer to place a copy on yet — what a cluster answers
 * while it elects a leader or sees a node that just (re)joined — for up to
 * `patienceMs`; any other error, or the last one, is thrown.
 */
export async function whileJetStreamSettles<T>(request: () => Promise<T>, patienceMs = JETSTREAM_START_PATIENCE_MS): Promise<T> {
  const deadline = Date.now() + patienceMs;
  for (let delayMs = 100; ; delayMs = Math.min(delayMs * 2, 2_000)) {
    try {
      return await request();
    } catch (error) {
      const transient =
        error instanceof Error &&
        /TIMEOUT|503|no responders|leader|no suitable peers|peer offline/i.test(`${error.message} ${(error as { code?: string }).code ?? ''}`);
      if (!transient || Date.now() + delayMs > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

/** The name of the stream that backs KV bucket `bucket`. */
export function kvStreamName(bucket: string): string {
  return `KV_${bucket}`;
}

/**
 * Brings an existing stream to `wanted` replicas. NATS changes the count of
 * a clustered stream in place; where it refuses (a single server asked for
 * more than one, too few nodes up, …), start-up stops with what to do.
 */
export async function reconcileReplicas(jsm: JetStreamManager, stream: string, wanted: number): Promise<void> {
  const info = await whileJetStreamSettles(() => jsm.streams.info(stream));
  const current = info.config.num_replicas ?? 1;
  if (current === wanted) return;
  try {
    await jsm.streams.update(stream, { ...info.config, num_replicas: wanted } as Partial<StreamConfig>);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `JetStream stream ${stream} has ${current} replica(s) but SB_NATS_REPLICAS asks for ${wanted}, and NATS refused the change (${reason}). ` +
        `Either set SB_NATS_REPLICAS=${current}, or make the cluster able to hold ${wanted} copies (at least ${wanted} JetStream servers up) and run ` +
        `\`nats stream edit ${stream} --replicas ${wanted}\`.`,
      { cause: error },
    );
  }
}

/** Creates stream `config.name` with `replicas` copies; a refusal says what to do. */
export async function addReplicatedStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }, replicas: number): Promise<void> {
  try {
    await whileJetStreamSettles(() => jsm.streams.add({ ...config, num_replicas: replicas }));
  } catch (error) {
    throw refusal(`JetStream cannot create stream ${config.name} with ${replicas} replica(s)`, replicas, error);
  }
}

function refusal(what: string, replicas: number, error: unknown): Error {
  const reason = error instanceof Error ? error.message : String(error);
  return new Error(
    `${what} (${reason}). SB_NATS_REPLICAS=${replicas} needs at least ${replicas} JetStream servers in one cluster; ` +
      `on a single nats-server set SB_NATS_REPLICAS=1.`,
    { cause: error },
  );
}

/** Opens (creating if needed) KV bucket `bucket` with the connection's replica count, reconciling an existing bucket's. */
export async function openReplicatedBucket(nc: NatsConnection, bucket: string, options: Partial<KvOptions> = {}): Promise<KV> {
  const replicas = replicasOf(nc);
  const kv = await whileJetStreamSettles(() => nc.jetstream().views.kv(bucket, { ...options, replicas })).catch((error: unknown) => {
    throw refusal(`JetStream cannot open KV bucket ${bucket} (stream ${kvStreamName(bucket)}) with ${replicas} replica(s)`, replicas, error);
  });
  let reconciled = reconciledByConnection.get(nc);
  if (!reconciled) reconciledByConnection.set(nc, (reconciled = new Set()));
  if (!reconciled.has(bucket)) {
    await reconcileReplicas(await nc.jetstreamManager(), kvStreamName(bucket), replicas);
    reconciled.add(bucket);
  }
  return kv;
}
