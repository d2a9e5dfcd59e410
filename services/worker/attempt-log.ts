/**
 * The worker's per-attempt log lines, by verbosity: `standard` (info) one
 * line per attempt from its CallEvent; `extended` (debug) the request and
 * the answer. See docs/deploy.md, "Log verbosity".
 */
import type { Logger } from '../../lib/log';
import type { AttemptInput, AttemptSuccess } from '../../schemas/call';
import type { CallEvent } from '../../schemas/call-event';

/** One line per attempt (`standard` verbosity and up), from the CallEvent it published: no prompt, no key. */
export function logAttempt(log: Logger, event: CallEvent): void {
  const failed = event.outcome !== 'success';
  log.info(
    {
      callId: event.callId,
      workflowId: event.workflowId,
      attempt: event.attempt,
      route: event.route,
      upstream: event.upstream,
      model: event.model,
      outcome: event.outcome,
      ...(event.status !== undefined ? { status: event.status } : {}),
      ...(failed && event.errorType ? { errorType: event.errorType } : {}),
      latencyMs: Math.round(event.latencyMs),
      ...(event.ttftMs !== undefined ? { ttftMs: Math.round(event.ttftMs) } : {}),
      ...(event.inputTokens !== undefined ? { inputTokens: event.inputTokens, outputTokens: event.outputTokens } : {}),
    },
    'attempt',
  );
}

/**
 * `extended` verbosity (debug): what was asked and answered. The messages are
 * the masked ones the vendor saw (PII masking runs before any attempt), the
 * answer is the vendor's, before unmasking; keys never travel in either.
 */
export function logAttemptDetails(log: Logger, input: AttemptInput, result: AttemptSuccess): void {
  if (!log.isLevelEnabled('debug')) return;
  log.debug(
    {
      callId: input.callId,
      workflowId: input.workflowId,
      attempt: input.attempt,
      upstream: result.upstream,
      request: {
        route: input.request.route,
        model: input.entry.model,
        promptVariant: result.promptVariant,
        messages: input.request.messages,
        ...(input.request.params ? { params: input.request.params } : {}),
      },
      response: { text: result.text, finishReason: result.finishReason, usage: result.usage, ...(result.toolCalls ? { toolCalls: result.toolCalls } : {}) },
    },
    'attempt details',
  );
}
