/**
 * The attempt journal: a vendor's answer kept for a few minutes under its
 * call and what was asked, so that an attempt made again only because the
 * process that made it died before reporting it — its workflow task timed
 * out, or its heartbeat stopped — reads the answer back instead of paying the
 * vendor a second time. KV `sb_attempts`; entries expire after `ttlMs`.
 *
 * The key is the call's workflow id and a digest of what the attempt asks
 * (entry, messages, output, tools), not the attempt number: a lost attempt is
 * followed by one with a new number and, maybe, another upstream, asking the
 * same thing. A call asks the same thing of the same entry again only when
 * the previous answer never reached the workflow, so reading it back is right
 * whenever it is found. Answers are stored as the vendor gave them (PII
 * masked), like the cache's.
 *
 * It is also what lets a gateway hand a call's answer to its caller before
 * Temporal has stored the call's completion (lib/call/answer-handoff.ts):
 * should that process die in between, the re-run reads back the very answer
 * the caller got.
 */
import { createHash } from 'node:crypto';
import type { KV, NatsConnection } from 'nats';
import type { AttemptInput, AttemptSuccess } from '../../schemas/call';
import { AttemptSuccess as AttemptSuccessSchema } from '../../schemas/call';
import { buckets, openBucket } from './kv';

/** How long an answer is kept: longer than any call's deadline, so every re-run of its attempt finds it. */
export const ATTEMPT_JOURNAL_TTL_MS = 15 * 60_000;

export interface AttemptJournal {
  /** The answer an earlier run of this attempt got, if it was kept. */
  read(input: AttemptInput): Promise<AttemptSuccess | undefined>;
  /** Keeps the answer: true once NATS has stored it, false when it could not (logged). Never rejects, never fails the attempt. */
  keep(input: AttemptInput, success: AttemptSuccess): Promise<boolean>;
}

/** `<call>.<ask>`: two hex tokens, valid KV key characters whatever the ids contain. */
export function attemptJournalKey(input: Pick<AttemptInput, 'workflowId' | 'entry' | 'request'>): string {
  const { entry, request } = input;
  const ask = {
    provider: entry.provider,
    model: entry.model,
    prompt: entry.prompt ?? null,
    messages: request.messages,
    output: request.output ?? null,
    tools: request.tools ?? null,
    toolChoice: request.toolChoice ?? null,
    stream: request.stream,
  };
  return `${sha256(input.workflowId).slice(0, 32)}.${sha256(JSON.stringify(ask)).slice(0, 32)}`;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Opens (creating) `sb_attempts` with the connection's replica count. */
export async function openAttemptJournal(nats: NatsConnection, log: { warn: (o: object, m: string) => void }): Promise<AttemptJournal> {
  const kv = await openBucket(nats, buckets.attempts, { history: 1, ttl: ATTEMPT_JOURNAL_TTL_MS });
  return createAttemptJournal(() => kv, log);
}

function createAttemptJournal(kv: () => KV | undefined, log: { warn: (o: object, m: string) => void }): AttemptJournal {
  return {
    async read(input) {
      const bucket = kv();
      if (!bucket) return undefined;
      try {
        const entry = await bucket.get(attemptJournalKey(input));
        if (!entry || entry.operation !== 'PUT' || entry.length === 0) return undefined;
        return AttemptSuccessSchema.parse(entry.json());
      } catch (error) {
        // The journal only saves money: without it the attempt is made again.
        log.warn({ err: error, callId: input.callId }, 'attempt journal unreadable; asking the vendor');
        return undefined;
      }
    },
    keep(input, success) {
      const bucket = kv();
      if (!bucket) return Promise.resolve(false);
      return bucket.put(attemptJournalKey(input), JSON.stringify(success)).then(
        () => true,
        (error: unknown) => {
          log.warn({ err: error, callId: input.callId }, 'could not keep the answer in the attempt journal');
          return false;
        },
      );
    },
  };
}
