/**
 * PII handling inside the llmCall workflow: apply the masking the call's
 * first local activity computed (lib/call/masking.ts), and restore every answer before
 * the caller (or the cache, or the interaction log, per config) sees it.
 * Pure and deterministic; imports only the restorer, so the workflow bundle
 * does not evaluate the PII detectors for every call.
 */
import { restorePii } from '../pii/restore';
import type { LlmRequest, LlmResult, Message } from '../../schemas/llm';
import type { PiiEntity } from '../../schemas/validation';

/** What masking changed in a request: the entities (and their placeholders' nonce), and the masked texts when it found any. */
export interface Masking {
  entities: PiiEntity[];
  nonce: string;
  messages?: Message[];
  userInput?: string;
}

export interface MaskedCall {
  /** The request vendors see: PII replaced by per-request placeholders. */
  request: LlmRequest;
  entities: PiiEntity[];
  nonce?: string;
}

/** The request as vendors see it: the caller's, with the masked texts in place. */
export function applyMasking(request: LlmRequest, masking: Masking | undefined): MaskedCall {
  if (!masking) return { request, entities: [] };
  const masked = masking.messages
    ? { ...request, messages: masking.messages, ...(masking.userInput !== undefined ? { userInput: masking.userInput } : {}) }
    : request;
  return { request: masked, entities: masking.entities, nonce: masking.nonce };
}

/** Restores text, tool-call arguments and structured output (placeholders inside JSON values included). */
export function restoreResult(result: LlmResult, entities: PiiEntity[]): LlmResult {
  if (entities.length === 0) return result;
  const restore = (text: string) => restorePii(text, entities);
  return {
    ...result,
    text: restore(result.text),
    ...(result.toolCalls ? { toolCalls: result.toolCalls.map((c) => ({ ...c, arguments: restore(c.arguments) })) } : {}),
    ...(result.output !== undefined ? { output: restoreJson(result.output, restore) } : {}),
  };
}

function restoreJson(value: unknown, restore: (text: string) => string): unknown {
  if (typeof value === 'string') return restore(value);
  if (Array.isArray(value)) return value.map((v) => restoreJson(v, restore));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, restoreJson(v, restore)]));
  return value;
}
