/**
 * Masking one call's request: PII replaced by per-request placeholders before
 * any vendor, the cache or the interaction log sees it. Runs in the call's
 * first local activity (answerCall or prepareCall), not in workflow code:
 * the detectors are large modules and regular expressions, and the workflow
 * would run them again on every replay. The workflow applies the result
 * (./privacy).
 */
import { derivePiiNonce } from '../pii/placeholder';
import { maskMessages } from '../pii/mask';
import type { CallPlan } from '../../schemas/call';
import type { LlmRequest } from '../../schemas/llm';
import type { Masking } from './privacy';

export function maskingOf(request: LlmRequest, callId: string, pii: CallPlan['pii']): Masking | undefined {
  if (!pii.enabled) return undefined;
  // The user's own input (recorded, never sent) is masked with the same table: one value, one placeholder.
  const extra = request.userInput !== undefined ? [{ role: 'user' as const, content: request.userInput }] : [];
  const masked = maskMessages([...request.messages, ...extra], pii, { nonce: derivePiiNonce(callId) });
  // Nothing found: the request stands as it is (and the result stays small in history).
  if (masked.entities.length === 0) return { entities: [], nonce: masked.nonce };
  return {
    entities: masked.entities,
    nonce: masked.nonce,
    messages: masked.messages.slice(0, request.messages.length),
    ...(extra.length ? { userInput: masked.messages.at(-1)!.content } : {}),
  };
}
