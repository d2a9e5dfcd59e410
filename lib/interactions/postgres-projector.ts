/**
 * Projects SB_INTERACTIONS and SB_FEEDBACK into PostgreSQL: one durable pull
 * consumer per stream (explicit ack), a batch per fetch, one transaction per
 * batch, acks only after COMMIT.
 *
 * PostgreSQL going away loses nothing: the batch stays un-acked (kept alive
 * with `working()` so JetStream does not hand it to another replica that
 * would fail the same way) and is retried with backoff until the database
 * answers; on shutdown it is nak'ed for prompt redelivery. Every write is
 * idempotent, so a redelivery after a commit whose ack was lost changes
 * nothing. A message that cannot be parsed, or that PostgreSQL refuses as
 * data, goes to `projection_rejects` instead of blocking the stream.
 */
import { AckPolicy, type ConsumerMessages, DeliverPolicy, type JetStreamManager, type JsMsg, type NatsConnection, nanos } from 'nats';
import type { Pool } from 'pg';
import type { Logger } from '../log';
import { ensureStreams, streams } from '../nats/streams';
import type { PostgresProjectionConfig } from '../../schemas/interaction-store';
import { migrate } from './postgres-migrations';
import { rejectRow, toBatch, type ProjectionBatch, type StreamMessage } from './postgres-rows';
import { isDataError, writeProjectionBatch } from './postgres-store';

export interface PostgresProjectorOptions {
  nats: NatsConnection;
  /** The caller owns it (and ends it after `stop()`); it must have an 'error' listener. */
  pool: Pool;
  config: PostgresProjectionConfig;
  log: Logger;
  /** Strings scrubbed from every error text before it is logged (the URL's password). */
  secrets?: readonly string[];
}

export interface ProjectorStats {
  interactions: number;
  feedback: number;
  rejects: number;
  batches: number;
  /** Time spent in committed batch transactions, ms. */
  writeMs: number;
  /** Failed write attempts (PostgreSQL down or refusing). */
  writeFailures: number;
  /** Messages fetched and not yet acked because their batch is not committed. */
  held: number;
  /** False from a failed write until the next successful one. */
  databaseUp: boolean;
}

export interface PostgresProjector {
  stats(): ProjectorStats;
  /** Messages JetStream has not had acked yet, per stream: waiting plus in flight. */
  backlog(): Promise<Record<string, number>>;
  /** Stops fetching, naks any held batch, waits for both consumers to stop. The pool and NATS stay open. */
  stop(): Promise<void>;
  /** Settles when both consumers have stopped; rejects if one died (its stream is no longer projected). */
  done: Promise<void>;
}

interface Source {
  stream: string;
  durable: string;
  kind: 'interaction' | 'feedback';
}

export function projectorSources(config: PostgresProjectionConfig): Source[] {
  return [
    { stream: streams.interactions.name, durable: `${config.consumer}_interactions`, kind: 'interaction' },
    { stream: streams.feedback.name, durable: `${config.consumer}_feedback`, kind: 'feedback' },
  ];
}

async function ensureConsumer(jsm: JetStreamManager, source: Source, config: PostgresProjectionConfig): Promise<void> {
  const tunable = { ack_wait: nanos(config.ackWaitMs), max_ack_pending: config.batchSize * 2 };
  try {
    await jsm.consumers.info(source.stream, source.durable);
    await jsm.consumers.update(source.stream, source.durable, tunable);
  } catch (error) {
    if (!(error instanceof Error && /not found/i.test(error.message))) throw error;
    // From the stream's start: a new projector backfills everything the stream still holds.
    await jsm.consumers.add(source.stream, {
      durable_name: source.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      max_deliver: -1,
      ...tunable,
    });
  }
}

export async function startPostgresProjector(options: PostgresProjectorOptions): Promise<PostgresProjector> {
  const { nats, pool, config, log } = options;
  const jsm = await ensureStreams(nats);
  const sources = projectorSources(config);
  for (const source of sources) await ensureConsumer(jsm, source, config);

  const stats: ProjectorStats = { interactions: 0, feedback: 0, rejects: 0, batches: 0, writeMs: 0, writeFailures: 0, held: 0, databaseUp: true };
  let stopping = false;
  let schemaReady = false;
  const fetches = new Set<ConsumerMessages>();
  const wakers = new Set<() => void>();

  const scrub = (error: unknown): string => {
    const code = (error as { code?: unknown } | undefined)?.code;
    let text = `${typeof code === 'string' ? `${code} ` : ''}${error instanceof Error ? error.message : String(error)}`;
    for (const secret of options.secrets ?? []) if (secret) text = text.replaceAll(secret, '[redacted]');
    return text;
  };

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      wakers.add(wake);
    });

  const write = async (batch: ProjectionBatch) => {
    const client = await pool.connect();
    // The pool listens for errors of idle clients only: without a listener here, PostgreSQL going away mid-write
    // would be an unhandled 'error' event and take the process down. The failed query rejects; that is handled below.
    const onLost = () => log.warn('PostgreSQL connection lost during a write (the batch stays un-acked and is retried)');
    client.on('error', onLost);
    const startedAt = performance.now();
    try {
      if (!schemaReady) {
        const applied = await migrate(client);
        if (applied.length) log.info({ versions: applied }, 'PostgreSQL projection schema migrated');
        schemaReady = true;
      }
      await writeProjectionBatch(client, batch);
      client.removeListener('error', onLost);
      client.release();
    } catch (error) {
      // A connection that failed mid-transaction is not reused.
      client.removeListener('error', onLost);
      client.release(true);
      throw error;
    }
    stats.interactions += batch.interactions.length;
    stats.feedback += batch.feedback.length;
    stats.rejects += batch.rejects.length;
    stats.batches += 1;
    stats.writeMs += performance.now() - startedAt;
    for (const reject of batch.rejects) {
      log.warn({ stream: reject.stream, seq: reject.stream_seq, error: reject.error }, 'message kept in projection_rejects');
    }
  };

  /** After a data error: one transaction per message, so only the offending ones become rejects. */
  const writeIsolating = async (messages: StreamMessage[], kind: Source['kind']) => {
    for (const message of messages) {
      try {
        await write(toBatch([message], () => kind));
      } catch (error) {
        if (!isDataError(error)) throw error;
        await write({ interactions: [], feedback: [], rejects: [rejectRow(message, `refused by PostgreSQL: ${scrub(error)}`)] });
      }
    }
  };

  /** Writes until committed (true) or stopping (false: the messages were nak'ed). */
  const writeUntilCommitted = async (held: JsMsg[], source: Source): Promise<boolean> => {
    const messages: StreamMessage[] = held.map((m) => ({ stream: source.stream, seq: m.seq, subject: m.subject, data: m.data }));
    const batch = toBatch(messages, () => source.kind);
    let isolate = false;
    let downSince: number | undefined;
    for (let backoffMs = config.initialBackoffMs; ; backoffMs = Math.min(backoffMs * 2, config.maxBackoffMs)) {
      try {
        if (isolate) await writeIsolating(messages, source.kind);
        else await write(batch);
        if (downSince !== undefined) {
          log.info({ stream: source.stream, messages: held.length, downMs: Date.now() - downSince }, 'PostgreSQL is back: held batch committed');
        }
        stats.databaseUp = true;
        return true;
      } catch (error) {
        if (!isolate && isDataError(error)) {
          isolate = true;
          continue;
        }
        stats.writeFailures += 1;
        stats.databaseUp = false;
        if (downSince === undefined) {
          downSince = Date.now();
          log.warn({ stream: source.stream, messages: held.length, error: scrub(error) }, 'PostgreSQL write failed: holding the batch un-acked and retrying');
        } else {
          log.debug({ stream: source.stream, backoffMs, error: scrub(error) }, 'PostgreSQL write retry failed');
        }
        if (stopping) {
          for (const m of held) m.nak();
          return false;
        }
        // Keeps the batch ours while we wait, so JetStream does not redeliver it elsewhere only to fail again.
        for (const m of held) m.working();
        await pause(backoffMs);
        if (stopping) {
          for (const m of held) m.nak();
          return false;
        }
      }
    }
  };

  const run = async (source: Source) => {
    const consumer = await nats.jetstream().consumers.get(source.stream, source.durable);
    let fetchBackoffMs = config.initialBackoffMs;
    while (!stopping) {
      const held: JsMsg[] = [];
      try {
        const fetched = await consumer.fetch({ max_messages: config.batchSize, expires: config.flushMs });
        fetches.add(fetched);
        try {
          for await (const message of fetched) held.push(message);
        } finally {
          fetches.delete(fetched);
        }
        fetchBackoffMs = config.initialBackoffMs;
      } catch (error) {
        // NATS away: whatever arrived is still written below; the rest stays on the stream.
        log.warn({ stream: source.stream, error: scrub(error) }, 'JetStream fetch failed');
        if (!held.length) {
          await pause(fetchBackoffMs);
          fetchBackoffMs = Math.min(fetchBackoffMs * 2, config.maxBackoffMs);
          continue;
        }
      }
      if (!held.length) continue;
      stats.held += held.length;
      try {
        if (await writeUntilCommitted(held, source)) for (const m of held) m.ack();
      } finally {
        stats.held -= held.length;
      }
    }
  };

  const running = Promise.all(
    sources.map((source) =>
      run(source).catch((error: unknown) => {
        log.error({ stream: source.stream, error: scrub(error) }, 'projector consumer stopped');
        throw error;
      }),
    ),
  );
  running.catch(() => undefined);
  log.info({ streams: sources.map((s) => `${s.stream} (${s.durable})`), batchSize: config.batchSize }, 'PostgreSQL projector started');

  return {
    done: running.then(() => undefined),
    stats: () => ({ ...stats }),
    async backlog() {
      const counts: Record<string, number> = {};
      for (const source of sources) {
        const info = await jsm.consumers.info(source.stream, source.durable);
        counts[source.stream] = info.num_pending + info.num_ack_pending;
      }
      return counts;
    },
    async stop() {
      stopping = true;
      for (const fetched of fetches) fetched.stop();
      for (const wake of [...wakers]) wake();
      await running.catch(() => undefined);
      // Acks are fire-and-forget publishes: make sure the server has them before the caller closes NATS.
      await nats.flush().catch(() => undefined);
    },
  };
}
