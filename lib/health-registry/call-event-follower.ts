/**
 * Reads `SB_CALLS` for the health registry, every message once and in order,
 * for as long as the registry lives. An ordered consumer does the reading; when
 * its iterator ends, throws, or stops delivering while the stream holds newer
 * messages, a new one is created from the sequence after the last message
 * handed on.
 *
 * The stall is the case that happens: an ordered consumer is one copy (R1) on
 * one node of the stream's peers. When that node dies, nats.js keeps asking for
 * the consumer's info, which times out instead of answering "not found" while
 * the cluster still records the consumer, so it never re-creates it; the
 * iterator neither ends nor throws and delivers nothing until the node returns
 * (see docs/breakers.md).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DeliverPolicy, type ConsumerMessages, type JetStreamManager, type JsMsg, type NatsConnection } from 'nats';
import type { Logger } from '../log';
import { streams } from '../nats/streams';

export interface CallEventFollowerOptions {
  nats: NatsConnection;
  jsm: JetStreamManager;
  /** Where the first consumer starts (the registry's window). */
  startTime: Date;
  /** The stream's last sequence when following starts: until a message arrives, the consumer is behind only once the stream holds a later one. */
  lastSeqAtStart: number;
  /** Each message of the stream once, in stream order. */
  onMessage: (message: JsMsg) => void;
  log: Logger;
}

export interface CallEventFollower {
  /** Stops following for good. */
  close(): Promise<void>;
}

/** How often a consumer that delivered nothing is compared with the stream. */
const STALL_CHECK_MS = 5_000;
const MAX_BACKOFF_MS = 5_000;

/** Creates the first consumer, then follows in the background, where every later failure is retried with a warning. */
export async function followCallEvents(options: CallEventFollowerOptions): Promise<CallEventFollower> {
  const { nats, jsm, log, onMessage } = options;
  const js = nats.jetstream();
  const stopping = new AbortController();
  let lastSeq = 0;
  let messages: ConsumerMessages | undefined;
  let deliveredSinceCheck = false;
  let stalled = false;

  // The first consumer replays the window; a later one starts right after what was handed on, so nothing is read twice or skipped.
  const consumerOptions = () =>
    lastSeq === 0 ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: options.startTime.toISOString() } : { opt_start_seq: lastSeq + 1 };

  const open = async () => (await js.consumers.get(streams.calls.name, consumerOptions())).consume();

  // Two checks in a row that find nothing delivered and a later message stored: one check could race a message in flight.
  let behind = false;
  let checking = false;
  // A closed connection never reopens: nothing left to follow.
  const isOver = () => stopping.signal.aborted || nats.isClosed();

  const follow = async (first: ConsumerMessages) => {
    let current: ConsumerMessages | undefined = first;
    for (let failures = 0; ; failures += 1) {
      try {
        current ??= await open();
        if (isOver()) {
          await current.close();
          return;
        }
        messages = current;
        behind = false;
        for await (const message of current) {
          failures = 0;
          deliveredSinceCheck = true;
          // A consumer given up on may still hand over what it had queued.
          if (message.seq <= lastSeq) continue;
          lastSeq = message.seq;
          onMessage(message);
        }
        if (isOver()) return;
        if (!stalled) log.warn({ stream: streams.calls.name, lastSeq }, 'the consumer of the health registry ended: re-creating it after the last event read');
      } catch (error) {
        if (isOver()) return;
        log.warn({ err: error, stream: streams.calls.name, lastSeq }, 'the consumer of the health registry failed: re-creating it after the last event read');
      }
      current = undefined;
      messages = undefined;
      stalled = false;
      await sleep(Math.min(250 * 2 ** failures, MAX_BACKOFF_MS), undefined, { signal: stopping.signal }).catch(() => undefined);
      if (isOver()) return;
    }
  };

  const checkStall = async () => {
    if (checking || messages === undefined || stalled) return;
    if (deliveredSinceCheck) {
      deliveredSinceCheck = false;
      behind = false;
      return;
    }
    checking = true;
    try {
      const lastStored = (await jsm.streams.info(streams.calls.name)).state.last_seq;
      if (lastStored <= Math.max(lastSeq, options.lastSeqAtStart) || deliveredSinceCheck) behind = false;
      else if (!behind) behind = true;
      else {
        behind = false;
        stalled = true;
        log.warn(
          { stream: streams.calls.name, lastSeq, lastStored },
          'the consumer of the health registry stalled (its node lost?): re-creating it after the last event read',
        );
        // The server drops the abandoned consumer after its inactive threshold (nats.js sets 5 min).
        messages.stop();
      }
    } catch {
      // The stream has no leader for now: the next check asks again.
    } finally {
      checking = false;
    }
  };
  const watchdog = setInterval(() => void checkStall(), STALL_CHECK_MS);
  watchdog.unref();

  // The first consumer is created before start-up goes on, so a stream that cannot be read fails it as before.
  messages = await open();
  void follow(messages);
  return {
    async close() {
      stopping.abort();
      clearInterval(watchdog);
      await messages?.close().catch(() => undefined);
    },
  };
}
