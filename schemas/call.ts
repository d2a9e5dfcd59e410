/** Payloads between the llmCall workflow and its activities. */
import { z } from 'zod';
import { AttemptOutcome, RateLimitSnapshot } from './call-event';
import { RetryConfig } from './config';
import { CacheConfig, OutputValidation, PiiConfig, PiiEntity, ValidationRule } from './validation';
import { callPathErrorTypes, vendorErrorTypes } from '../contracts/failures';
import { Embeddings, FinishReason, LlmRequest, TokenLogprob, ToolCall, Usage } from './llm';

export const LlmCallInput = z.object({
  callId: z.string(),
  request: LlmRequest,
});
export type LlmCallInput = z.infer<typeof LlmCallInput>;

export const PlannedEntry = z.object({
  provider: z.string(),
  model: z.string(),
  prompt: z.string().optional(),
  contextTokens: z.number().int().positive().optional(),
  /** Upstreams in the provider's pool, so the retry plan knows when the pool is used up. */
  upstreamCount: z.number().int().nonnegative(),
});
export type PlannedEntry = z.infer<typeof PlannedEntry>;

/** What planCall decided for one call: the route after the failover switch, and the limits. */
export const CallPlan = z.object({
  entries: z.array(PlannedEntry).min(1),
  retry: RetryConfig,
  attemptTimeoutMs: z.number().int().positive(),
  heartbeatMs: z.number().int().positive(),
  /** Bounds the whole call when the request sets no deadline. */
  callTimeoutMs: z.number().int().positive(),
  /**
   * How long selection avoids an upstream after a 429 that names no retry-after (`health.defaultRetryAfterMs`):
   * the plan waits at least this long before asking that upstream again. Default 250 ms.
   */
  rateLimitWaitMs: z.number().int().nonnegative().optional(),
  /** The route's (or the feature's) output checks, if any. */
  validation: OutputValidation.optional(),
  cache: CacheConfig,
  pii: PiiConfig,
  /** Provider the operator's failover switch moved traffic away from, if any. */
  avoidedProvider: z.string().optional(),
  /** A stream broken after its first token: continued by the next attempt (`resume`, default) or not. */
  midStream: z.enum(['resume', 'error']).optional(),
});
export type CallPlan = z.infer<typeof CallPlan>;

export const AttemptInput = z.object({
  callId: z.string(),
  workflowId: z.string(),
  attempt: z.number().int().positive(),
  request: LlmRequest,
  entry: PlannedEntry,
  /** Upstreams this call must not use (failed fatally, or cooling after a 429). */
  exclude: z.array(z.string()),
  attemptTimeoutMs: z.number().int().positive(),
  /** The request's masked values, so streamed deltas reach the caller restored. */
  piiEntities: z.array(PiiEntity).optional(),
  /** Output checks the activity runs on the (restored) answer before accepting it. */
  validation: OutputValidation.optional(),
  /** A short backoff to wait before picking (precise here; a workflow timer is not, see `placeWait`). */
  waitMs: z.number().int().nonnegative().optional(),
  /** Every upstream of the route is out: try the one nearest to recovery rather than fail untried (the panic policy). */
  allowPanic: z.boolean().optional(),
  /** This attempt may repeat one whose report was lost with its process: read the attempt journal first (lib/nats/attempt-journal.ts). */
  readBack: z.boolean().optional(),
  /** A stream broken after its first token: the text (as the vendor wrote it) its caller already has; this attempt streams only what follows it. */
  resume: z.object({ text: z.string() }).optional(),
});
export type AttemptInput = z.infer<typeof AttemptInput>;

export const AttemptSuccess = z.object({
  upstream: z.string(),
  promptVariant: z.string(),
  text: z.string(),
  toolCalls: z.array(ToolCall).optional(),
  output: z.unknown().optional(),
  finishReason: FinishReason,
  usage: Usage,
  model: z.string(),
  costUsd: z.number().optional(),
  latencyMs: z.number(),
  startedAt: z.number(),
  ttftMs: z.number().optional(),
  rateLimit: RateLimitSnapshot.optional(),
  /** An embeddings call's vectors. */
  embeddings: Embeddings.optional(),
  logprobs: z.array(TokenLogprob).optional(),
});
export type AttemptSuccess = z.infer<typeof AttemptSuccess>;

/** Details of a failed attempt, carried on the activity's ApplicationFailure. */
/** The closed vocabulary of failed attempts (contracts/failures.ts). */
export const AttemptErrorType = z.enum([...vendorErrorTypes, ...callPathErrorTypes]).or(z.templateLiteral(['validation_', ValidationRule]));

export const AttemptFailureDetails = z.object({
  outcome: AttemptOutcome.exclude(['success']).or(z.literal('no_upstream')),
  errorType: AttemptErrorType,
  message: z.string(),
  status: z.number().optional(),
  retryAfterMs: z.number().optional(),
  upstream: z.string().optional(),
  promptVariant: z.string(),
  latencyMs: z.number(),
  startedAt: z.number(),
  /** For a failed validation: the answer (as the vendor wrote it) and the instruction that asks for a fix. */
  repair: z.object({ answer: z.string(), instruction: z.string() }).optional(),
  /** A stream that broke after its first token: the text (as the vendor wrote it) that reached the caller, resumed ones included. */
  streamed: z.string().optional(),
});
export type AttemptFailureDetails = z.infer<typeof AttemptFailureDetails>;
