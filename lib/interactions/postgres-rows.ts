/**
 * Pure mapping from stream messages to the rows of the PostgreSQL
 * projection: parse at the boundary, snake_case columns, a stable id per
 * feedback event (so a redelivery is the same row), and a reject row for a
 * message that cannot be parsed (kept, never retried forever).
 */
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { Feedback, Interaction } from '../../schemas/interaction';

/** A JetStream message as the projection sees it. */
export interface StreamMessage {
  stream: string;
  seq: number;
  subject: string;
  data: Uint8Array;
}

/** One row of `interactions`, keyed like its columns (docs/interactions.md lists them). */
export interface InteractionRow {
  call_id: string;
  finished_at: string;
  tenant: string;
  user_id: string | null;
  feature: string | null;
  route: string;
  provider: string;
  model: string;
  upstream: string;
  prompt_variant: string;
  input: string;
  enhanced_prompt: string | null;
  prompt_as_sent: string;
  output: string;
  attempts: number;
  latency_ms: number;
  ttft_ms: number | null;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  language: string;
  cache_hit: boolean;
  validation: string;
  outcome: string;
  error: string | null;
  raw: unknown;
  stream_seq: number;
}

export interface FeedbackRow {
  feedback_id: string;
  call_id: string;
  tenant: string;
  inserted: boolean;
  note: string | null;
  given_at: string;
  raw: unknown;
  stream_seq: number;
}

export interface RejectRow {
  stream: string;
  stream_seq: number;
  subject: string;
  error: string;
  payload: string;
}

/** PostgreSQL types of the `interactions` columns the projector writes, in insert order. */
export const interactionColumns: ReadonlyArray<readonly [keyof InteractionRow, string]> = [
  ['call_id', 'text'],
  ['finished_at', 'timestamptz'],
  ['tenant', 'text'],
  ['user_id', 'text'],
  ['feature', 'text'],
  ['route', 'text'],
  ['provider', 'text'],
  ['model', 'text'],
  ['upstream', 'text'],
  ['prompt_variant', 'text'],
  ['input', 'text'],
  ['enhanced_prompt', 'text'],
  ['prompt_as_sent', 'text'],
  ['output', 'text'],
  ['attempts', 'integer'],
  ['latency_ms', 'double precision'],
  ['ttft_ms', 'double precision'],
  ['input_tokens', 'integer'],
  ['output_tokens', 'integer'],
  ['cost_usd', 'numeric'],
  ['language', 'text'],
  ['cache_hit', 'boolean'],
  ['validation', 'text'],
  ['outcome', 'text'],
  ['error', 'text'],
  ['raw', 'jsonb'],
  ['stream_seq', 'bigint'],
];

export const feedbackColumns: ReadonlyArray<readonly [keyof FeedbackRow, string]> = [
  ['feedback_id', 'text'],
  ['call_id', 'text'],
  ['tenant', 'text'],
  ['inserted', 'boolean'],
  ['note', 'text'],
  ['given_at', 'timestamptz'],
  ['raw', 'jsonb'],
  ['stream_seq', 'bigint'],
];

export const rejectColumns: ReadonlyArray<readonly [keyof RejectRow, string]> = [
  ['stream', 'text'],
  ['stream_seq', 'bigint'],
  ['subject', 'text'],
  ['error', 'text'],
  ['payload', 'text'],
];

/** Rows one batch writes in one transaction. */
export interface ProjectionBatch {
  interactions: InteractionRow[];
  feedback: FeedbackRow[];
  rejects: RejectRow[];
}

/** A stored payload is capped: a reject row is evidence, not a second copy of a huge message. */
const MAX_REJECT_PAYLOAD = 64 * 1024;

const decoder = new TextDecoder();

type Parsed<T> = { ok: true; value: T; raw: unknown } | { ok: false; reject: RejectRow };

/** The row that keeps a message the projection could not take, with why. */
export function rejectRow(message: StreamMessage, error: string): RejectRow {
  const payload = decoder.decode(message.data).slice(0, MAX_REJECT_PAYLOAD);
  return { stream: message.stream, stream_seq: message.seq, subject: message.subject, error, payload };
}

function parse<T>(schema: z.ZodType<T>, message: StreamMessage): Parsed<T> {
  const text = decoder.decode(message.data);
  const reject = (error: string): Parsed<T> => ({ ok: false, reject: rejectRow(message, error) });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return reject(`not JSON: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    return reject(parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; '));
  }
  return { ok: true, value: parsed.data, raw };
}

const iso = (epochMs: number) => new Date(epochMs).toISOString();

export function interactionRow(message: StreamMessage): { row: InteractionRow } | { reject: RejectRow } {
  const parsed = parse(Interaction, message);
  if (!parsed.ok) return { reject: parsed.reject };
  const i = parsed.value;
  return {
    row: {
      call_id: i.callId,
      finished_at: iso(i.at),
      tenant: i.tenant,
      user_id: i.user ?? null,
      feature: i.feature ?? null,
      route: i.route,
      provider: i.provider,
      model: i.model,
      upstream: i.upstream,
      prompt_variant: i.promptVariant,
      input: i.input,
      enhanced_prompt: i.enhancedPrompt ?? null,
      prompt_as_sent: i.promptAsSent,
      output: i.output,
      attempts: i.attempts,
      latency_ms: i.latencyMs,
      ttft_ms: i.ttftMs ?? null,
      input_tokens: i.inputTokens,
      output_tokens: i.outputTokens,
      cost_usd: i.costUsd,
      language: i.language,
      cache_hit: i.cacheHit,
      validation: i.validation,
      outcome: i.outcome ?? 'answered',
      error: i.error ?? null,
      raw: parsed.raw,
      stream_seq: message.seq,
    },
  };
}

/** Same event → same id, whatever its stream sequence (a replay into a new stream included). */
export function feedbackId(f: Feedback): string {
  return createHash('sha256')
    .update(JSON.stringify([f.tenant, f.callId, f.at, f.inserted, f.note ?? null]))
    .digest('hex');
}

export function feedbackRow(message: StreamMessage): { row: FeedbackRow } | { reject: RejectRow } {
  const parsed = parse(Feedback, message);
  if (!parsed.ok) return { reject: parsed.reject };
  const f = parsed.value;
  return {
    row: {
      feedback_id: feedbackId(f),
      call_id: f.callId,
      tenant: f.tenant,
      inserted: f.inserted,
      note: f.note ?? null,
      given_at: iso(f.at),
      raw: parsed.raw,
      stream_seq: message.seq,
    },
  };
}

/**
 * Keeps one row per key, the one latest in the stream: one INSERT … ON
 * CONFLICT DO UPDATE may not touch the same row twice.
 */
export function lastPerKey<R extends { stream_seq: number }>(rows: readonly R[], key: (row: R) => string): R[] {
  const latest = new Map<string, R>();
  for (const row of rows) {
    const seen = latest.get(key(row));
    if (!seen || seen.stream_seq <= row.stream_seq) latest.set(key(row), row);
  }
  return [...latest.values()];
}

/** Decodes a batch of messages into rows; `kind` says which record a message carries (by its stream). */
export function toBatch(messages: readonly StreamMessage[], kind: (message: StreamMessage) => 'interaction' | 'feedback'): ProjectionBatch {
  const batch: ProjectionBatch = { interactions: [], feedback: [], rejects: [] };
  for (const message of messages) {
    if (kind(message) === 'interaction') {
      const mapped = interactionRow(message);
      if ('reject' in mapped) batch.rejects.push(mapped.reject);
      else batch.interactions.push(mapped.row);
    } else {
      const mapped = feedbackRow(message);
      if ('reject' in mapped) batch.rejects.push(mapped.reject);
      else batch.feedback.push(mapped.row);
    }
  }
  batch.interactions = lastPerKey(batch.interactions, (r) => r.call_id);
  batch.feedback = lastPerKey(batch.feedback, (r) => r.feedback_id);
  batch.rejects = lastPerKey(batch.rejects, (r) => `${r.stream}:${r.stream_seq}`);
  return batch;
}
