/**
 * Queue mode for batch routes: instead of a 429, a request over its user's
 * limit waits its turn. Each user has a line of their own in this pod (first
 * come, first admitted; one user's backlog never holds up another's), the
 * head of a line retries admission when the limiter says a slot frees up,
 * and nobody waits longer than the route's `maxWaitMs`. The limits
 * themselves stay shared by every pod (admission.ts); the order within a
 * line is per pod.
 */
import type { QueuePolicy } from '../../schemas/gateway';
import type { Admitted } from './admission';
import { GatewayError, isGatewayError } from './http-errors';

/** A small extra wait, so the head of a line does not retry before the bucket has visibly refilled. */
const RETRY_SLACK_MS = 25;

function retryAfterMs(error: GatewayError): number {
  const ms = Number(error.extra.headers?.['retry-after-ms'] ?? Number(error.extra.headers?.['retry-after'] ?? 1) * 1000);
  return Number.isFinite(ms) && ms > 0 ? ms : 1_000;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function tooLong(waitedMs: number, last: GatewayError | undefined, policy: QueuePolicy): GatewayError {
  const why = last ? `${last.message}` : 'the requests ahead of it did not clear';
  return new GatewayError(429, 'rate_limit_error', `waited ${Math.round(waitedMs)} ms in this route's queue (at most ${policy.maxWaitMs} ms): ${why}`, {
    code: 'queue_timeout',
    headers: { 'retry-after': String(Math.max(1, Math.ceil((last ? retryAfterMs(last) : 1_000) / 1000))) },
  });
}

export interface AdmissionQueue {
  /** Admits through `admit`, waiting in `line` (tenant + user) while it answers 429. */
  admit(line: string, policy: QueuePolicy, admit: () => Promise<Admitted>, onQueued: () => void): Promise<Admitted>;
  /** Requests waiting now, per line (for tests and metrics). */
  waiting(): number;
}

export function createAdmissionQueue(): AdmissionQueue {
  const tails = new Map<string, { tail: Promise<void>; size: number }>();
  let waiting = 0;

  return {
    waiting: () => waiting,
    async admit(lineKey, policy, admit, onQueued) {
      const line = tails.get(lineKey) ?? { tail: Promise.resolve(), size: 0 };
      if (line.size >= policy.maxQueuedPerUser) {
        throw new GatewayError(
          429,
          'rate_limit_error',
          `this user already has ${line.size} requests waiting in this route's queue (at most ${policy.maxQueuedPerUser})`,
          {
            code: 'queue_full',
            headers: { 'retry-after': '1' },
          },
        );
      }
      const ahead = line.tail;
      let leave!: () => void;
      const done = new Promise<void>((resolve) => (leave = resolve));
      line.tail = ahead.then(() => done);
      line.size += 1;
      tails.set(lineKey, line);
      const arrived = performance.now();
      const waited = () => performance.now() - arrived;
      let queued = false;
      const markQueued = () => {
        if (queued) return;
        queued = true;
        waiting += 1;
        onQueued();
      };
      try {
        // Behind earlier requests of the same user: wait for them (bounded by the same budget).
        let timer: NodeJS.Timeout | undefined;
        const budgetGone = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), policy.maxWaitMs)));
        const turn = await Promise.race([ahead.then(() => 'turn' as const), budgetGone]).finally(() => clearTimeout(timer));
        if (turn === 'timeout') throw tooLong(waited(), undefined, policy);
        for (;;) {
          try {
            return await admit();
          } catch (error) {
            if (!isGatewayError(error) || error.status !== 429 || error.extra.code === 'request_too_large') throw error;
            const pause = retryAfterMs(error) + RETRY_SLACK_MS;
            if (waited() + pause > policy.maxWaitMs) throw tooLong(waited(), error, policy);
            markQueued();
            await sleep(pause);
          }
        }
      } finally {
        if (queued) waiting -= 1;
        line.size -= 1;
        if (line.size === 0) tails.delete(lineKey);
        leave();
      }
    },
  };
}
