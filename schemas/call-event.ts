import { z } from 'zod';

/**
 * How one upstream attempt ended, as the one error classifier sees it.
 * - `success`: the vendor answered.
 * - `retryable`: 5xx, 529 overloaded, timeout, connection reset, a stream cut short.
 * - `rate_limited`: 429; `retryAfterMs` says when the vendor wants us back.
 * - `fatal_upstream`: 401/403, billing, account locked — this credential is unusable.
 * - `caller_fault`: 400 (context length, content policy, invalid request) — never a breaker failure.
 * - `invalid_output`: the vendor answered but the answer failed validation — never a breaker failure.
 * - `internal`: our own code failed after the vendor answered (ours, not the vendor's) — never a breaker failure, never retried elsewhere.
 */
export const AttemptOutcome = z.enum(['success', 'retryable', 'rate_limited', 'fatal_upstream', 'caller_fault', 'invalid_output', 'internal']);
export type AttemptOutcome = z.infer<typeof AttemptOutcome>;

/** Rate-limit state the vendor reported in its response headers. */
export const RateLimitSnapshot = z.object({
  limitRequests: z.number().int().nonnegative().optional(),
  remainingRequests: z.number().int().nonnegative().optional(),
  resetRequestsMs: z.number().nonnegative().optional(),
  limitTokens: z.number().int().nonnegative().optional(),
  remainingTokens: z.number().int().nonnegative().optional(),
  resetTokensMs: z.number().nonnegative().optional(),
});
export type RateLimitSnapshot = z.infer<typeof RateLimitSnapshot>;

/** Published to JetStream `SB_CALLS` on `sb.call.<provider>.<upstreamId>` after every upstream attempt. */
export const CallEvent = z.object({
  /** Unique per attempt; also the JetStream msgID, so a retried publish is stored once. */
  eventId: z.string(),
  callId: z.string(),
  workflowId: z.string(),
  /** 1-based attempt number within the call. */
  attempt: z.number().int().positive(),
  /** Epoch ms when the attempt finished. */
  at: z.number(),
  tenant: z.string(),
  route: z.string(),
  feature: z.string().optional(),
  provider: z.string(),
  upstream: z.string(),
  model: z.string(),
  promptVariant: z.string(),
  outcome: AttemptOutcome,
  /** HTTP status, when there was one. */
  status: z.number().int().optional(),
  /** Stable error type (e.g. `rate_limit_exceeded`, `timeout`, `context_length_exceeded`). */
  errorType: z.string().optional(),
  errorMessage: z.string().optional(),
  latencyMs: z.number().nonnegative(),
  /** Time to first token, for streamed attempts. */
  ttftMs: z.number().nonnegative().optional(),
  /** The attempt resumed a stream another attempt broke: the characters its caller already had. */
  resumedFromChars: z.number().int().nonnegative().optional(),
  /** How a resumed stream went on: the vendor continued the text sent as an assistant prefill, or its answer began with that text. */
  resumedBy: z.enum(['prefill', 'matching']).optional(),
  /** Malformed stream events that carried no content, skipped (not a failure). */
  skippedChunks: z.number().int().positive().optional(),
  inputTokens: z.number().int().nonnegative().optional(),
  outputTokens: z.number().int().nonnegative().optional(),
  costUsd: z.number().nonnegative().optional(),
  retryAfterMs: z.number().nonnegative().optional(),
  rateLimit: RateLimitSnapshot.optional(),
  stream: z.boolean().optional(),
  /** Breaker cluster of the worker that made the attempt; a health registry folds only its own cluster's events. */
  cluster: z.string().optional(),
});
export type CallEvent = z.infer<typeof CallEvent>;
