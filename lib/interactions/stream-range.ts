/**
 * Reads the messages of one JetStream subject filter published in a time
 * range, oldest first, with an ordered consumer that starts at `sinceMs`.
 * Bounded three ways: it stops at what was pending when it started (later
 * messages are not waited for), at `untilMs`, and after `max` messages.
 */
import { DeliverPolicy, type NatsConnection } from 'nats';
import { decodeJson } from '../nats/json-payload';

export interface StreamRangeQuery<T> {
  stream: string;
  /** Subject filter, e.g. `sb.interaction.acme` or `sb.interaction.>`. */
  subject: string;
  sinceMs: number;
  /** Messages stored after this are not read. Default: now. */
  untilMs?: number;
  /** Most messages returned. */
  max: number;
  /** Parses one message; undefined skips it (a foreign or malformed message). */
  parse(data: unknown): T | undefined;
  /** A read that stalls this long fails instead of hanging. Default 30 s. */
  timeoutMs?: number;
}

export interface StreamRange<T> {
  items: T[];
  /** Messages that did not parse. */
  skipped: number;
  /** True when `max` stopped the read before the range's end. */
  truncated: boolean;
}

export async function readStreamRange<T>(nats: NatsConnection, query: StreamRangeQuery<T>): Promise<StreamRange<T>> {
  const untilMs = query.untilMs ?? Date.now();
  const consumer = await nats.jetstream().consumers.get(query.stream, {
    filterSubjects: query.subject,
    deliver_policy: DeliverPolicy.StartTime,
    opt_start_time: new Date(query.sinceMs).toISOString(),
  });
  // Creating the consumer fixes what is pending from the start time: that is the most we read.
  const pending = (await consumer.info()).num_pending;
  const result: StreamRange<T> = { items: [], skipped: 0, truncated: false };
  if (pending === 0) {
    await consumer.delete().catch(() => undefined);
    return result;
  }
  const messages = await consumer.consume({ max_messages: Math.min(pending, 1_000) });
  const timeoutMs = query.timeoutMs ?? 30_000;
  let stalled = false;
  const stall = () => {
    stalled = true;
    void messages.close();
  };
  let timer = setTimeout(stall, timeoutMs);
  let read = 0;
  try {
    for await (const message of messages) {
      clearTimeout(timer);
      timer = setTimeout(stall, timeoutMs);
      read += 1;
      if (message.info.timestampNanos / 1e6 > untilMs) break;
      const item = query.parse(decodeJson(message.data));
      if (item === undefined) result.skipped += 1;
      else result.items.push(item);
      if (result.items.length >= query.max) {
        result.truncated = read < pending && message.info.pending > 0;
        break;
      }
      if (read >= pending || message.info.pending === 0) break;
    }
  } finally {
    clearTimeout(timer);
    await messages.close().catch(() => undefined);
    await consumer.delete().catch(() => undefined);
  }
  if (stalled) throw new Error(`reading ${query.stream} (${query.subject}) stalled for ${timeoutMs} ms after ${read} of ${pending} messages`);
  return result;
}
