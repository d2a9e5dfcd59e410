/**
 * What a caller of the gateway sees during an outage of our own stack, call
 * by call, through the official `openai` client (maxRetries 0): the HTTP
 * status, the error's code, `retry-after`, the call id — and, afterwards,
 * whether every answered call's interaction record and CallEvents reached
 * JetStream (read back from SB_INTERACTIONS and SB_CALLS).
 */
import type { NatsConnection } from 'nats';
import OpenAI from 'openai';
import { z } from 'zod';
import { readStreamRange } from '../../lib/interactions/stream-range';
import { streams } from '../../lib/nats/streams';
import { openaiClient, percentile, round1 } from './sdk-load';
import type { ServiceProcess } from './services';

export interface StackCall {
  /** The gateway it was sent to. */
  gateway: string;
  sentAt: number;
  latencyMs: number;
  stream: boolean;
  withUser: boolean;
  /** HTTP status; null when no HTTP answer came (connection refused or reset, or the client's timeout). */
  status: number | null;
  ok: boolean;
  callId: string | null;
  retryAfter: string | null;
  /** The gateway's finer `retry-after-ms` on a refusal. */
  retryAfterMs: number | null;
  code: string | null;
  message: string;
}

export interface CallRequest {
  gateway: string;
  model: string;
  prompt: string;
  stream: boolean;
  user?: string;
}

const ErrorBody = z.object({ code: z.string().nullish(), message: z.string().nullish() }).passthrough();

/** One call; never throws: every failure is a StackCall with what the client saw. */
export async function callGateway(client: OpenAI, r: CallRequest): Promise<StackCall> {
  const sentAt = Date.now();
  const started = performance.now();
  const base = { gateway: r.gateway, sentAt, stream: r.stream, withUser: r.user !== undefined };
  const body = { model: r.model, messages: [{ role: 'user' as const, content: r.prompt }], ...(r.user ? { user: r.user } : {}) };
  let status: number | null = null;
  let callId: string | null = null;
  try {
    if (!r.stream) {
      const { data, response } = await client.chat.completions.create(body).withResponse();
      const ok = typeof data.choices[0]?.message.content === 'string';
      const done = { status: response.status, callId: response.headers.get('x-switchboard-call-id'), retryAfter: null, retryAfterMs: null, code: null };
      return { ...base, ...done, latencyMs: performance.now() - started, ok, message: ok ? '' : 'no content in the answer' };
    }
    const { data, response } = await client.chat.completions.create({ ...body, stream: true }).withResponse();
    status = response.status;
    callId = response.headers.get('x-switchboard-call-id');
    let finished = false;
    for await (const chunk of data) if (chunk.choices[0]?.finish_reason) finished = true;
    const message = finished ? '' : 'stream ended without a finish reason';
    return { ...base, status, callId, retryAfter: null, retryAfterMs: null, code: null, latencyMs: performance.now() - started, ok: finished, message };
  } catch (error) {
    const latencyMs = performance.now() - started;
    if (error instanceof OpenAI.APIError && error.status !== undefined) {
      const parsed = ErrorBody.safeParse(error.error);
      return {
        ...base,
        latencyMs,
        ok: false,
        status: error.status,
        callId: error.headers?.get('x-switchboard-call-id') ?? null,
        retryAfter: error.headers?.get('retry-after') ?? null,
        retryAfterMs: Number(error.headers?.get('retry-after-ms') ?? Number.NaN) || null,
        code: parsed.success ? (parsed.data.code ?? null) : null,
        message: (parsed.success ? (parsed.data.message ?? error.message) : error.message).slice(0, 200),
      };
    }
    // A stream that broke after its 200 keeps that status; otherwise no HTTP answer came at all.
    const message = `${error instanceof Error ? error.constructor.name : 'Error'}: ${error instanceof Error ? error.message : String(error)}`.slice(0, 200);
    return {
      ...base,
      latencyMs,
      ok: false,
      status,
      callId,
      retryAfter: null,
      retryAfterMs: null,
      code: status === null ? 'no_answer' : 'stream_broken',
      message,
    };
  }
}

export interface CallTally {
  calls: number;
  answered: number;
  /** "200", "503 temporal_unavailable", "no answer", … → how many. */
  byStatus: Record<string, number>;
  status500: number;
  /** 429s and 503s without a numeric retry-after. */
  refusalsWithoutRetryAfter: number;
  noAnswer: number;
  answeredP50Ms: number | null;
  answeredP99Ms: number | null;
  firstErrors: string[];
}

export function tally(calls: StackCall[]): CallTally {
  const byStatus: Record<string, number> = {};
  for (const c of calls) {
    const key = c.ok ? '200' : c.status === null ? 'no answer' : `${c.status} ${c.code ?? ''}`.trim();
    byStatus[key] = (byStatus[key] ?? 0) + 1;
  }
  const answered = calls
    .filter((c) => c.ok)
    .map((c) => c.latencyMs)
    .sort((a, b) => a - b);
  const failed = calls.filter((c) => !c.ok);
  return {
    calls: calls.length,
    answered: answered.length,
    byStatus,
    status500: calls.filter((c) => c.status === 500).length,
    refusalsWithoutRetryAfter: calls.filter((c) => (c.status === 429 || c.status === 503) && !/^\d+$/.test(c.retryAfter ?? '')).length,
    noAnswer: calls.filter((c) => c.status === null).length,
    answeredP50Ms: round1(percentile(answered, 50)),
    answeredP99Ms: round1(percentile(answered, 99)),
    firstErrors: [...new Set(failed.map((c) => `${c.status ?? 'no answer'} ${c.code ?? ''}: ${c.message}`))].slice(0, 3),
  };
}

export interface RecordCheck {
  /** Answered calls whose interaction record or CallEvents are checked. */
  answered: number;
  /** Answered calls without an interaction record once the wait was over. */
  missingRecords: number;
  /** Answered calls without a single CallEvent once the wait was over. */
  missingCallEvents: number;
  /** Interaction records stored more than once for one call, and CallEvents stored more than once (same eventId). */
  duplicateRecords: number;
  duplicateCallEvents: number;
  /** From the start of the check until every record was in JetStream; null: not within the wait. */
  completeAfterMs: number | null;
}

const WithCallId = z.object({ callId: z.string() }).passthrough();
const CallEventIds = z.object({ callId: z.string(), eventId: z.string() }).passthrough();

/**
 * Waits (up to `waitMs`) until every answered call's interaction record and
 * at least one CallEvent are in JetStream, reading both streams from
 * `sinceMs`; what is still missing then is lost.
 */
export async function checkRecords(nats: NatsConnection, calls: StackCall[], sinceMs: number, waitMs: number): Promise<RecordCheck> {
  const answered = new Set(calls.filter((c) => c.ok && c.callId).map((c) => c.callId!));
  const started = Date.now();
  for (;;) {
    const read = async <T>(stream: string, subject: string, parse: (d: unknown) => T | undefined) =>
      (await readStreamRange(nats, { stream, subject, sinceMs, max: 1_000_000, parse })).items;
    // Just after a restart JetStream may refuse a read for a moment: that is a try that found nothing yet.
    const [records, events] = await Promise.all([
      read(streams.interactions.name, 'sb.interaction.>', (d) => WithCallId.safeParse(d).data).catch(() => undefined),
      read(streams.calls.name, 'sb.call.>', (d) => CallEventIds.safeParse(d).data).catch(() => undefined),
    ]);
    if (records && events) {
      const mine = records.filter((r) => answered.has(r.callId));
      const withRecord = new Set(mine.map((r) => r.callId));
      const withEvent = new Set(events.filter((e) => answered.has(e.callId)).map((e) => e.callId));
      const missingRecords = [...answered].filter((id) => !withRecord.has(id)).length;
      const missingCallEvents = [...answered].filter((id) => !withEvent.has(id)).length;
      const complete = missingRecords === 0 && missingCallEvents === 0;
      if (complete || Date.now() - started > waitMs) {
        const myEvents = events.filter((e) => answered.has(e.callId));
        return {
          answered: answered.size,
          missingRecords,
          missingCallEvents,
          duplicateRecords: mine.length - withRecord.size,
          duplicateCallEvents: myEvents.length - new Set(myEvents.map((e) => e.eventId)).size,
          completeAfterMs: complete ? Date.now() - started : null,
        };
      }
    } else if (Date.now() - started > waitMs) {
      throw new Error(`JetStream could not be read for ${waitMs / 1000} s after the scenario, so no record could be counted`);
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

/** A gateway process of the part and the `openai` client that calls it. */
export interface StackGateway {
  name: string;
  url: string;
  service: ServiceProcess;
  client: OpenAI;
  model: string;
}

export function stackGateway(name: string, started: { url: string; service: ServiceProcess }, apiKey: string): StackGateway {
  const target = { name, baseURL: `${started.url}/v1`, apiKey, model: 'chat-default' };
  // Longer than the gateway's 120 s deadline: a call that gets no answer at all is the gateway's doing, not the client's.
  return { name, ...started, client: openaiClient(target, 150_000), model: target.model };
}

/**
 * The part's steady traffic: call i goes to the live gateways in turn; a
 * quarter are streamed (i mod 8 = 1 or 6, so both of two gateways get
 * streams) and a third carry a user of their own (admission's KV in the path).
 */
export function mixedCall(gateways: () => StackGateway[], runId: string, scenario: string): (i: number) => Promise<StackCall> {
  return (i) => {
    const live = gateways();
    const g = live[i % live.length]!;
    return callGateway(g.client, {
      gateway: g.name,
      model: g.model,
      prompt: `stack ${runId} ${scenario} #${i}: name a bakery.`,
      stream: i % 8 === 1 || i % 8 === 6,
      ...(i % 3 === 1 ? { user: `u-${runId}-${scenario}-${i}` } : {}),
    });
  };
}
