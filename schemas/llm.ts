import { z } from 'zod';
import { checkRequestSchemas } from '../lib/validation/request-schemas';
import { AttemptOutcome } from './call-event';

/** A JSON Schema document (as produced by `z.toJSONSchema`); checked structurally by vendors. */
export const JsonSchema = z.record(z.string(), z.unknown());
export type JsonSchema = z.infer<typeof JsonSchema>;

export const ToolCall = z.object({
  id: z.string(),
  name: z.string(),
  /** Arguments as the model produced them (a JSON string). */
  arguments: z.string(),
});
export type ToolCall = z.infer<typeof ToolCall>;

export const Message = z.discriminatedUnion('role', [
  z.object({ role: z.literal('system'), content: z.string() }),
  z.object({ role: z.literal('user'), content: z.string() }),
  z.object({ role: z.literal('assistant'), content: z.string(), toolCalls: z.array(ToolCall).optional() }),
  z.object({ role: z.literal('tool'), content: z.string(), toolCallId: z.string().min(1) }),
]);
export type Message = z.infer<typeof Message>;

export const Tool = z.object({
  name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and -, at most 64'),
  description: z.string().optional(),
  /** JSON Schema of the arguments. */
  parameters: JsonSchema,
});
export type Tool = z.infer<typeof Tool>;

/** Structured output: one schema, realised per vendor (OpenAI json_schema, Anthropic forced tool use). */
export const StructuredOutput = z.object({
  name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and -, at most 64'),
  schema: JsonSchema,
});
export type StructuredOutput = z.infer<typeof StructuredOutput>;

export const SamplingParams = z.object({
  temperature: z.number().min(0).max(2).optional(),
  topP: z.number().gt(0).max(1).optional(),
  maxTokens: z.number().int().positive().optional(),
  stop: z.array(z.string()).max(4).optional(),
  /** Return the answer's token log probabilities (OpenAI-protocol routes only), with this many alternatives per token. */
  logprobs: z.boolean().optional(),
  topLogprobs: z.number().int().min(0).max(20).optional(),
});
export type SamplingParams = z.infer<typeof SamplingParams>;

const idToken = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9._:@-]+$/, 'letters, digits and . _ : @ - only');

/** What a caller asks for: one logical LLM call. */
export const LlmRequest = z
  .object({
    /** Logical model name from config (`routes`). */
    route: z.string().min(1),
    messages: z.array(Message).min(1, 'at least one message'),
    tools: z.array(Tool).optional(),
    /** `auto` (default when tools are given), `none`, `required`, or a tool name to force. */
    toolChoice: z.union([z.enum(['auto', 'none', 'required']), z.object({ name: z.string() })]).optional(),
    output: StructuredOutput.optional(),
    params: SamplingParams.optional(),
    tenant: idToken.default('default'),
    user: idToken.optional(),
    feature: idToken.optional(),
    /** The same key returns the same result and reaches the vendor once. */
    idempotencyKey: idToken.optional(),
    /** Bounds the whole call, all attempts and waits included. Default from config (`timeouts.callMs`). */
    deadlineMs: z.number().int().positive().max(3_600_000).optional(),
    stream: z.boolean().default(false),
    /** `false` skips the response cache for this call (lookup and store). Default: use it where the route caches. */
    cache: z.boolean().optional(),
    /**
     * The end user's own words, when the messages carry a prompt the product
     * built from them (its "enhanced prompt"). Recorded with the interaction
     * (masked like the messages); never sent to a vendor. Default: the last
     * user message is the user's input.
     */
    userInput: z.string().max(100_000).optional(),
    /**
     * An embeddings call: the messages' texts are the inputs, in order, and the
     * answer is one vector per input (`LlmResult.embeddings`). `dimensions`:
     * the vector size every entry of the route is asked for.
     */
    embedding: z.object({ dimensions: z.number().int().positive().max(65_536).optional() }).optional(),
  })
  .superRefine((request, ctx) => {
    // A schema we cannot use fails here, before any vendor is paid, not inside an attempt.
    for (const issue of checkRequestSchemas(request)) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
  });
export type LlmRequest = z.infer<typeof LlmRequest>;
export type LlmRequestInput = z.input<typeof LlmRequest>;

/**
 * Embedding vectors as they travel through the workflow: little-endian
 * float32, concatenated, base64 — a quarter of the size of JSON numbers, so a
 * request's vectors stay well inside Temporal's payload limit.
 */
export const Embeddings = z.object({
  dimensions: z.number().int().positive(),
  count: z.number().int().nonnegative(),
  float32Base64: z.string(),
});
export type Embeddings = z.infer<typeof Embeddings>;

const TokenChoice = z.object({ token: z.string(), logprob: z.number(), bytes: z.array(z.number().int()).nullable() });
/** One token of the answer with its log probability and the most likely alternatives (OpenAI's `logprobs.content`). */
export const TokenLogprob = TokenChoice.extend({ top: z.array(TokenChoice) });
export type TokenLogprob = z.infer<typeof TokenLogprob>;

export const Usage = z.object({
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
});
export type Usage = z.infer<typeof Usage>;

/** One entry of a call's attempt log. */
export const AttemptRecord = z.object({
  attempt: z.number().int().positive(),
  provider: z.string(),
  /** Absent when no upstream could be picked. */
  upstream: z.string().optional(),
  model: z.string(),
  promptVariant: z.string(),
  outcome: AttemptOutcome.or(z.literal('no_upstream')),
  status: z.number().int().optional(),
  errorType: z.string().optional(),
  message: z.string().optional(),
  latencyMs: z.number().nonnegative(),
  /** Streamed attempts: ms from the attempt's start to its first token. */
  ttftMs: z.number().nonnegative().optional(),
  /** A stream resumed by this attempt: the characters its caller already had (docs/gateway.md, midStream). */
  resumedFromChars: z.number().int().nonnegative().optional(),
  /** Epoch ms when the attempt started. */
  startedAt: z.number(),
});
export type AttemptRecord = z.infer<typeof AttemptRecord>;

export const FinishReason = z.enum(['stop', 'length', 'tool_calls', 'content_filter']);
export type FinishReason = z.infer<typeof FinishReason>;

export const LlmResult = z.object({
  callId: z.string(),
  workflowId: z.string(),
  text: z.string(),
  toolCalls: z.array(ToolCall).optional(),
  /** The parsed structured output, when `output` was asked for. */
  output: z.unknown().optional(),
  finishReason: FinishReason,
  usage: Usage,
  provider: z.string(),
  model: z.string(),
  upstream: z.string(),
  promptVariant: z.string(),
  costUsd: z.number().nonnegative().optional(),
  latencyMs: z.number().nonnegative(),
  /** Streamed calls: ms from the call's start to the first token of the answer that was kept. */
  ttftMs: z.number().nonnegative().optional(),
  attempts: z.array(AttemptRecord),
  /** Served from the response cache: no vendor was called. */
  cached: z.boolean().default(false),
  /** `repaired`: an answer failed validation and a repair retry fixed it. */
  validation: z.enum(['none', 'passed', 'repaired']).default('none'),
  /** An embeddings call's vectors, one per input in order. */
  embeddings: Embeddings.optional(),
  /** Token log probabilities, when the request asked for them. */
  logprobs: z.array(TokenLogprob).optional(),
});
export type LlmResult = z.infer<typeof LlmResult>;
