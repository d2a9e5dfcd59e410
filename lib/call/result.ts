/**
 * The caller's LlmResult, built in one place from what answered — a vendor
 * attempt or the cache — and the name a finished call goes by in search
 * attributes, metrics and the interaction log. Pure; llmCall runs it.
 */
import type { AttemptSuccess, PlannedEntry } from '../../schemas/call';
import type { CachedAnswer } from '../../schemas/cache';
import type { AttemptRecord, LlmRequest, LlmResult } from '../../schemas/llm';

/** The fields of an LlmResult that the answer itself carries (the vendor's, or the cache's copy of it). */
export type Answer = Pick<
  LlmResult,
  'text' | 'toolCalls' | 'output' | 'finishReason' | 'usage' | 'provider' | 'model' | 'upstream' | 'promptVariant' | 'costUsd' | 'embeddings' | 'logprobs'
>;

/** Who asked, and when the call started (workflow time). */
export interface ResultContext {
  callId: string;
  workflowId: string;
  /** The request as vendors saw it: structured output is kept only when it asked for one. */
  request: Pick<LlmRequest, 'output'>;
  startedAt: number;
}

export interface HowAnswered {
  /** Epoch ms the answer was complete. */
  endedAt: number;
  /** Streams: ms from the call's start to the first token of the kept answer. */
  ttftMs?: number;
  attempts: AttemptRecord[];
  cached: boolean;
  validation: LlmResult['validation'];
}

function toLlmResult(call: ResultContext, answer: Answer, how: HowAnswered): LlmResult {
  return {
    callId: call.callId,
    workflowId: call.workflowId,
    text: answer.text,
    ...(answer.toolCalls ? { toolCalls: answer.toolCalls } : {}),
    ...(call.request.output ? { output: answer.output } : {}),
    finishReason: answer.finishReason,
    usage: answer.usage,
    provider: answer.provider,
    model: answer.model,
    upstream: answer.upstream,
    promptVariant: answer.promptVariant,
    ...(answer.costUsd !== undefined ? { costUsd: answer.costUsd } : {}),
    latencyMs: Math.max(0, how.endedAt - call.startedAt),
    ...(how.ttftMs !== undefined ? { ttftMs: how.ttftMs } : {}),
    attempts: how.attempts,
    cached: how.cached,
    validation: how.validation,
    ...(answer.embeddings ? { embeddings: answer.embeddings } : {}),
    ...(answer.logprobs ? { logprobs: answer.logprobs } : {}),
  };
}

/** A cache hit as the caller's result: no vendor called, nothing paid. */
export function cachedResult(call: ResultContext, hit: CachedAnswer, now: number): LlmResult {
  return toLlmResult(call, { ...hit, costUsd: 0 }, { endedAt: now, attempts: [], cached: true, validation: 'none' });
}

/**
 * An attempt's answer as the caller's result. Workflow time stands still
 * inside one workflow task and a local attempt runs inside it: the attempt's
 * own clock says when it ended, and when its first token came.
 */
export function answeredResult(
  call: ResultContext,
  entry: PlannedEntry,
  success: AttemptSuccess,
  how: Omit<HowAnswered, 'endedAt' | 'ttftMs' | 'cached'> & { now: number },
): LlmResult {
  return toLlmResult(
    call,
    { ...success, provider: entry.provider },
    {
      endedAt: Math.max(how.now, success.startedAt + success.latencyMs),
      ...(success.ttftMs !== undefined ? { ttftMs: Math.max(0, success.startedAt - call.startedAt) + success.ttftMs } : {}),
      attempts: how.attempts,
      cached: false,
      validation: how.validation,
    },
  );
}

/** What the cache keeps of a result: the answer alone (no call id, timing, attempts or cost). */
export function cacheableAnswer(result: LlmResult): Omit<CachedAnswer, 'storedAt' | 'expiresAt' | 'piiNonce'> {
  return {
    text: result.text,
    ...(result.toolCalls ? { toolCalls: result.toolCalls } : {}),
    ...(result.output !== undefined ? { output: result.output } : {}),
    finishReason: result.finishReason,
    usage: result.usage,
    provider: result.provider,
    model: result.model,
    upstream: result.upstream,
    promptVariant: result.promptVariant,
  };
}

export type AnsweredOutcome = 'cache_hit' | 'recovered' | 'success';

/** How an answered call is named in `SbOutcome`, metrics and the interaction log. */
export function answeredOutcome(result: Pick<LlmResult, 'cached' | 'attempts'>): AnsweredOutcome {
  if (result.cached) return 'cache_hit';
  return result.attempts.length > 1 ? 'recovered' : 'success';
}
