import { z } from 'zod';

/** One call as the product team sees it: what the user asked, what was sent, what came back, what it cost. */
export const Interaction = z.object({
  callId: z.string(),
  /** Epoch ms when the call finished. */
  at: z.number(),
  tenant: z.string(),
  user: z.string().optional(),
  feature: z.string().optional(),
  route: z.string(),
  provider: z.string(),
  model: z.string(),
  upstream: z.string(),
  promptVariant: z.string(),
  /** The user's own input (masked or raw, per `pii.logMode`). */
  input: z.string(),
  /** The prompt after the product's own enhancement, if the caller sent one. */
  enhancedPrompt: z.string().optional(),
  /** Every message as sent to the vendor, system prompt included. */
  promptAsSent: z.string(),
  output: z.string(),
  attempts: z.number().int().nonnegative(),
  latencyMs: z.number().nonnegative(),
  ttftMs: z.number().nonnegative().optional(),
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  costUsd: z.number().nonnegative(),
  /** ISO 639-1 guess of the input's language, or `und`. */
  language: z.string(),
  cacheHit: z.boolean().default(false),
  validation: z.enum(['passed', 'repaired', 'failed', 'none']).default('none'),
  /** `failed`: every attempt was exhausted — no output; provider, model and upstream are the last tried. Absent: `answered` (and records written before the field existed). */
  outcome: z.enum(['answered', 'failed']).optional(),
  /** Why a failed call failed (its final reason, as the caller was told). */
  error: z.string().optional(),
});
export type Interaction = z.infer<typeof Interaction>;

/** What a caller sends: its verdict on one call (the gateway's body, the typed client's arguments). */
export const FeedbackRequest = z.object({
  callId: z.string().min(1).max(300),
  inserted: z.boolean(),
  note: z.string().max(2_000).optional(),
});
export type FeedbackRequest = z.infer<typeof FeedbackRequest>;

/** The caller's verdict as recorded on SB_FEEDBACK: did the user keep (insert) the answer? */
export const Feedback = FeedbackRequest.extend({
  tenant: z.string(),
  /** Epoch ms when it was recorded. */
  at: z.number(),
});
export type Feedback = z.infer<typeof Feedback>;

/** An interaction joined with its feedback (if any arrived). */
export type JudgedInteraction = Interaction & { inserted?: boolean; note?: string };
