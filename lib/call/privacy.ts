/**
 * PII handling of one call: mask the request before any vendor, the cache or
 * the interaction log sees it, restore every answer before the caller does.
 * Pure and deterministic (lib/pii imports no node modules): the llmCall
 * workflow and the prepareCall activity mask the same request the same way
 * (the nonce comes from the call id).
 */
import { derivePiiNonce, maskMessages, restorePii } from '../pii';
import type { CallPlan } from '../../schemas/call';
import type { LlmRequest, LlmResult } from '../../schemas/llm';
import type { PiiEntity } from '../../schemas/validation';

export interface MaskedCall {
  /** The request vendors see: PII replaced by per-request placeholders. */
  request: LlmRequest;
  entities: PiiEntity[];
  nonce?: string;
}

export function maskRequest(request: LlmRequest, callId: string, pii: CallPlan['pii']): MaskedCall {
  if (!pii.enabled) return { request, entities: [] };
  // The user's own input (recorded, never sent) is masked with the same table: one value, one placeholder.
  const extra = request.userInput !== undefined ? [{ role: 'user' as const, content: request.userInput }] : [];
  const masked = maskMessages([...request.messages, ...extra], pii, { nonce: derivePiiNonce(callId) });
  const messages = masked.messages.slice(0, request.messages.length);
  const userInput = extra.length ? masked.messages.at(-1)!.content : undefined;
  return { request: { ...request, messages, ...(userInput !== undefined ? { userInput } : {}) }, entities: masked.entities, nonce: masked.nonce };
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
