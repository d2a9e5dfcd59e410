/**
 * Schemas of the fake vendor: its configuration, the faults it can inject, the
 * time-scripted scenarios that inject them, the bodies of its admin API and
 * the records of what it saw. Types are inferred from the schemas, never
 * written twice.
 */
import { z } from 'zod';

export const VendorProtocol = z.enum(['openai', 'anthropic']);
export type VendorProtocol = z.infer<typeof VendorProtocol>;

const nonNegativeMs = z.number().finite().min(0);
const chunkCount = z.number().int().min(0);
const httpStatus = z.number().int().min(400).max(599);

// ---------------------------------------------------------------- faults

/** An HTTP error with the vendor's error body (529 on Anthropic is `overloaded_error`). */
export const StatusFault = z.strictObject({
  kind: z.literal('status'),
  status: httpStatus,
  /** `vendor`: the vendor's JSON error; `html`: a load-balancer HTML page; `empty`: no body. Default `vendor`. */
  body: z.enum(['vendor', 'html', 'empty']).default('vendor'),
  /** Overrides the vendor's default message. */
  message: z.string().optional(),
});

/** Delay before the response headers: fixed `ms`, or drawn from a distribution. */
export const LatencyFault = z
  .strictObject({
    kind: z.literal('latency'),
    ms: nonNegativeMs.optional(),
    distribution: z.enum(['uniform', 'normal']).optional(),
    minMs: nonNegativeMs.optional(),
    maxMs: nonNegativeMs.optional(),
    meanMs: nonNegativeMs.optional(),
    stdDevMs: nonNegativeMs.optional(),
  })
  .refine(
    (f) =>
      (f.distribution === undefined && f.ms !== undefined) ||
      (f.distribution === 'uniform' && f.minMs !== undefined && f.maxMs !== undefined && f.minMs <= f.maxMs) ||
      (f.distribution === 'normal' && f.meanMs !== undefined && f.stdDevMs !== undefined),
    { message: 'latency needs `ms`, or `distribution: uniform` with minMs <= maxMs, or `distribution: normal` with meanMs and stdDevMs' },
  );

/** Headers arrive on time, the first token after `ttftMs` (non-streaming: the whole answer waits). */
export const SlowFirstTokenFault = z.strictObject({ kind: z.literal('slow_first_token'), ttftMs: nonNegativeMs });

/** A 429 independent of the real limiter; without `retryAfterSeconds` no `retry-after` header is sent. */
export const RateLimitFault = z.strictObject({
  kind: z.literal('rate_limit'),
  retryAfterSeconds: z.number().int().min(0).optional(),
  /** Which limit the message blames. Default `requests`. */
  scope: z.enum(['requests', 'tokens']).default('requests'),
});

/** The account cannot be used: see docs/fake-vendor.md for each reason's status and body per vendor. */
export const AccountLockedFault = z.strictObject({
  kind: z.literal('account_locked'),
  /** Default `deactivated`. */
  reason: z.enum(['invalid_key', 'deactivated', 'billing', 'forbidden']).default('deactivated'),
});

export const ContextLengthFault = z.strictObject({ kind: z.literal('context_length_exceeded') });

export const ContentPolicyFault = z.strictObject({
  kind: z.literal('content_policy_violation'),
  /** Overrides the vendor's default message (the reason shown to the caller). */
  message: z.string().optional(),
});

/** The TCP connection is reset before any response byte. */
export const ResetBeforeHeadersFault = z.strictObject({ kind: z.literal('reset_before_headers') });

/** The request is accepted and never answered (until the client gives up or the vendor closes). */
export const HangFault = z.strictObject({ kind: z.literal('hang') });

/** Streaming only: after `afterChunks` token chunks the socket is destroyed, no terminator. */
export const StreamCutFault = z.strictObject({ kind: z.literal('stream_cut'), afterChunks: chunkCount.default(3) });

/** Streaming only: after `afterChunks` token chunks nothing is sent for `stallMs` (absent: forever), then the stream resumes. */
export const StreamStallFault = z.strictObject({ kind: z.literal('stream_stall'), afterChunks: chunkCount.default(3), stallMs: nonNegativeMs.optional() });

/**
 * Streaming only: one SSE `data:` line of invalid JSON after `afterChunks` token chunks — a truncated text
 * delta, or with `contentFree` a truncated chunk that carries no text (a client may skip it).
 */
export const MalformedChunkFault = z.strictObject({
  kind: z.literal('malformed_chunk'),
  afterChunks: chunkCount.default(1),
  contentFree: z.boolean().default(false),
});

/** Streaming only: the answer completes but `data: [DONE]` (OpenAI) / `message_stop` (Anthropic) never comes. */
export const MissingDoneFault = z.strictObject({
  kind: z.literal('missing_done'),
  /** How long the connection stays open after the last chunk before the response ends. Default 0. */
  holdOpenMs: nonNegativeMs.default(0),
});

/** Streaming only: an in-stream error event after `afterChunks` token chunks (Anthropic `event: error`). */
export const StreamErrorFault = z.strictObject({
  kind: z.literal('stream_error'),
  afterChunks: chunkCount.default(3),
  /** 529 gives `overloaded_error`, anything else a server error. Default 529. */
  status: httpStatus.default(529),
});

/** Only for requests that ask for structured output: the answer does not satisfy the schema. */
export const InvalidJsonFault = z.strictObject({ kind: z.literal('invalid_json') });

/** Down (answering `status`) for `downMs`, then healthy for `upMs`, repeating from when the rule was set. */
export const FlapFault = z.strictObject({
  kind: z.literal('flap'),
  downMs: nonNegativeMs,
  upMs: nonNegativeMs,
  /** Default 503. */ status: httpStatus.default(503),
});

export const Fault = z.discriminatedUnion('kind', [
  StatusFault,
  LatencyFault,
  SlowFirstTokenFault,
  RateLimitFault,
  AccountLockedFault,
  ContextLengthFault,
  ContentPolicyFault,
  FlapFault,
  ResetBeforeHeadersFault,
  HangFault,
  StreamCutFault,
  StreamStallFault,
  MalformedChunkFault,
  MissingDoneFault,
  StreamErrorFault,
  InvalidJsonFault,
]);
export type Fault = z.infer<typeof Fault>;
export type FaultInput = z.input<typeof Fault>;
export type FaultKind = Fault['kind'];
export const FaultKind = z.enum(Fault.options.map((o) => o.shape.kind.value) as [FaultKind, ...FaultKind[]]);

/** Which requests a rule applies to, and how often it fires. */
const faultTargeting = {
  organisation: z.string().min(1),
  /** Only requests for this model. Default: every model. */
  model: z.string().min(1).optional(),
  /** Only requests whose prompt text contains this (case-insensitive). */
  promptContains: z.string().min(1).optional(),
  /** Only streaming (true) or only non-streaming (false) requests. Default: both. */
  stream: z.boolean().optional(),
  /** Chance that a matching request gets the fault, drawn from the seeded RNG. Default 1. */
  probability: z.number().min(0).max(1).default(1),
  /** Fire this many times, then the rule retires ("fail N times then succeed"). Default: unlimited. */
  times: z.number().int().min(1).optional(),
  /** The rule retires this long after it was set. Default: never. */
  durationMs: nonNegativeMs.optional(),
};

export const FaultRule = z.strictObject({ ...faultTargeting, fault: Fault });
export type FaultRule = z.infer<typeof FaultRule>;
export type FaultRuleInput = z.input<typeof FaultRule>;

/** A rule as the admin API lists it. */
export const ActiveFaultRule = FaultRule.extend({
  id: z.string(),
  createdAtMs: z.number(),
  firedCount: z.number().int(),
});
export type ActiveFaultRule = z.infer<typeof ActiveFaultRule>;

// ---------------------------------------------------------------- scenarios

/** One step of a scenario: at `at` ms after the scenario starts, set a rule or clear the organisation's rules. */
export const ScenarioStep = z
  .strictObject({ at: nonNegativeMs, ...faultTargeting, fault: Fault.optional(), clear: z.literal(true).optional() })
  .refine((s) => (s.fault === undefined) !== (s.clear === undefined), {
    message: 'a scenario step needs exactly one of `fault` or `clear: true`',
  });
export type ScenarioStep = z.infer<typeof ScenarioStep>;
export type ScenarioStepInput = z.input<typeof ScenarioStep>;

/** A scenario file or admin body is `{ steps: [...] }` or the bare list (see `readScenario`). */
export const ScenarioSteps = z.array(ScenarioStep);
export const ScenarioFile = z.strictObject({ steps: ScenarioSteps });

// ---------------------------------------------------------------- config

export const ModelConfig = z.union([
  z.string().min(1),
  z.strictObject({
    id: z.string().min(1),
    /** Prompts longer than this get the vendor's context-length error. Default 128000 (OpenAI) / 200000 (Anthropic). */
    contextTokens: z.number().int().positive().optional(),
    /** Embedding models only. Default 1536 (3072 for names containing `large`). */
    embeddingDimensions: z.number().int().positive().max(8192).optional(),
  }),
]);
export type ModelConfig = z.infer<typeof ModelConfig>;

/** How answers are timed and sized; each field can be overridden per organisation. */
const answerTiming = {
  /** Time to first token. Default 0. */
  ttftMs: nonNegativeMs.optional(),
  /** Streaming pace after the first token; 0 sends every token at once. Default 0. */
  tokensPerSecond: z.number().finite().min(0).optional(),
  /** Delay before the response headers. Default 0. */
  latencyMs: nonNegativeMs.optional(),
};

export const OrganisationConfig = z.strictObject({
  /** e.g. `openai/org-a`: the upstream id the rest of Switchboard uses. */
  id: z.string().min(1),
  protocol: VendorProtocol,
  keys: z.array(z.strictObject({ name: z.string().min(1), key: z.string().min(8) })).min(1),
  /** Requests per minute. Default 10000. */
  rpm: z.number().int().positive().default(10_000),
  /** Tokens (prompt + completion) per minute. Default 2000000. */
  tpm: z.number().int().positive().default(2_000_000),
  /** Models this organisation may call. Default: gpt-4o, gpt-4o-mini, gpt-4.1, text-embedding-3-small/-large (OpenAI); claude-sonnet-4-5, claude-haiku-4-5, claude-sonnet-4-6 (Anthropic). */
  models: z.array(ModelConfig).min(1).optional(),
  ...answerTiming,
});
export type OrganisationConfig = z.infer<typeof OrganisationConfig>;

export const AnswerDefaults = z.strictObject({
  ttftMs: nonNegativeMs.default(0),
  tokensPerSecond: z.number().finite().min(0).default(0),
  latencyMs: nonNegativeMs.default(0),
  /** Bounds of a generated answer's length in tokens. Default 8..40. */
  minAnswerTokens: z.number().int().min(1).default(8),
  maxAnswerTokens: z.number().int().min(1).default(40),
});
export type AnswerDefaults = z.infer<typeof AnswerDefaults>;

export const FakeVendorConfig = z
  .strictObject({
    /** Seeds answers and fault probabilities, so runs repeat. Default 42. */
    seed: z.number().int().default(42),
    defaults: AnswerDefaults.prefault({}),
    requestLog: z
      .strictObject({
        /** Records kept (a ring). Default 100000. */
        capacity: z.number().int().positive().default(100_000),
        /** Prompt text kept per record for `contains` queries. Default 65536. */
        maxPromptChars: z.number().int().min(0).default(65_536),
      })
      .prefault({}),
    organisations: z.array(OrganisationConfig).min(1),
    /** Steps started when the vendor starts. */
    scenario: z.array(ScenarioStep).optional(),
  })
  .superRefine((config, ctx) => {
    const ids = new Set<string>();
    const keys = new Set<string>();
    config.organisations.forEach((org, i) => {
      if (ids.has(org.id)) ctx.addIssue({ code: 'custom', path: ['organisations', i, 'id'], message: `duplicate organisation '${org.id}'` });
      ids.add(org.id);
      org.keys.forEach((k, j) => {
        if (keys.has(k.key)) ctx.addIssue({ code: 'custom', path: ['organisations', i, 'keys', j, 'key'], message: `key '${k.name}' is used twice` });
        keys.add(k.key);
      });
    });
    if (config.defaults.minAnswerTokens > config.defaults.maxAnswerTokens) {
      ctx.addIssue({ code: 'custom', path: ['defaults', 'minAnswerTokens'], message: 'must not exceed maxAnswerTokens' });
    }
    config.scenario?.forEach((step, i) => {
      if (!ids.has(step.organisation)) {
        ctx.addIssue({ code: 'custom', path: ['scenario', i, 'organisation'], message: `unknown organisation '${step.organisation}'` });
      }
    });
  });
export type FakeVendorConfig = z.infer<typeof FakeVendorConfig>;
export type FakeVendorConfigInput = z.input<typeof FakeVendorConfig>;

// ---------------------------------------------------------------- admin API

/** `POST /_admin/faults` takes one `FaultRule` or a list of them. */
export const FaultRules = z.array(FaultRule).min(1);

/** `GET /_admin/requests` query. `contains` may repeat: a record must contain every one (case-insensitive). */
export const RequestLogQuery = z.strictObject({
  organisation: z.string().min(1).optional(),
  model: z.string().min(1).optional(),
  contains: z.array(z.string().min(1)).optional(),
  /** Only records at or after this epoch ms. */
  since: z.coerce.number().finite().optional(),
  /** Only the newest N matching records (still oldest first); `count` stays the full match count. */
  limit: z.coerce.number().int().min(0).optional(),
  /** Include each record's stored prompt text. */
  includePrompt: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
});
export type RequestLogQuery = z.infer<typeof RequestLogQuery>;

// ---------------------------------------------------------------- request log

/** What the vendor saw of one request. Never the raw API key. */
export const VendorRequestRecord = z.object({
  id: z.string(),
  /** Arrival, epoch ms. */
  time: z.number(),
  protocol: VendorProtocol,
  path: z.string(),
  /** Null when the key was missing or unknown. */
  organisation: z.string().nullable(),
  /** The key's configured name. */
  keyName: z.string().nullable(),
  model: z.string().nullable(),
  stream: z.boolean(),
  /** The decisive fault (the one that shaped the response), or null. */
  fault: FaultKind.nullable(),
  /** Every fault that fired, in rule order. */
  faults: z.array(FaultKind),
  /** HTTP status sent, null when no status line was sent (reset, hang). */
  status: z.number().int().nullable(),
  /** sha256 (hex) of the prompt text: system and messages, one `role: text` line each. */
  promptHash: z.string().nullable(),
  promptChars: z.number().int(),
  promptTokens: z.number().int(),
  completionTokens: z.number().int().nullable(),
  promptText: z.string().optional(),
});
export type VendorRequestRecord = z.infer<typeof VendorRequestRecord>;
