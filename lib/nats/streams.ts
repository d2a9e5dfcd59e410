import { type JetStreamManager, type NatsConnection, nanos, RetentionPolicy, StorageType } from 'nats';
import { addReplicatedStream, reconcileReplicas, replicasOf, whileJetStreamSettles } from './replicas';

/** JetStream streams Switchboard owns, with the subjects each captures. */
export const streams = {
  /** One CallEvent after every upstream attempt: `sb.call.<provider>.<upstreamId>`. */
  calls: { name: 'SB_CALLS', subjects: ['sb.call.>'], maxAgeMs: 24 * 3_600_000 },
  /** Harness and demo probes: `sb.probe.<id>`. */
  probes: { name: 'SB_PROBES', subjects: ['sb.probe.>'], maxAgeMs: 3_600_000 },
  /** One interaction record per finished call: `sb.interaction.<tenant>`. */
  interactions: { name: 'SB_INTERACTIONS', subjects: ['sb.interaction.>'], maxAgeMs: 30 * 24 * 3_600_000 },
  /** Callers' verdicts from the gateway: `sb.feedback.<tenant>`. */
  feedback: { name: 'SB_FEEDBACK', subjects: ['sb.feedback.>'], maxAgeMs: 30 * 24 * 3_600_000 },
} as const;

/**
 * Creates the streams if missing (idempotent, safe from every worker at
 * start-up: JetStream answers "already in use" only on a config clash, which
 * we then update), each with the connection's replica count; an existing
 * stream with another count is changed where NATS allows it, else start-up
 * stops saying what to do.
 */
export async function ensureStreams(nc: NatsConnection): Promise<JetStreamManager> {
  const jsm = await whileJetStreamSettles(() => nc.jetstreamManager());
  const replicas = replicasOf(nc);
  for (const stream of Object.values(streams)) {
    const config = {
      name: stream.name,
      subjects: [...stream.subjects],
      max_age: nanos(stream.maxAgeMs),
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      // Lets a publisher pass a msgID so a retried publish is stored once.
      duplicate_window: nanos(120_000),
    };
    let exists = true;
    try {
      await whileJetStreamSettles(() => jsm.streams.info(stream.name));
    } catch (error) {
      if (!isNotFound(error)) throw error;
      exists = false;
    }
    if (exists) {
      await whileJetStreamSettles(() => jsm.streams.update(stream.name, config));
      await reconcileReplicas(jsm, stream.name, replicas);
    } else {
      await addReplicatedStream(jsm, config, replicas);
    }
  }
  return jsm;
}

function isNotFound(error: unknown): boolean {
  return error instanceof Error && /not found/i.test(error.message);
}
