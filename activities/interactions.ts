import { JSONCodec, type NatsConnection } from 'nats';
import { detectLanguage } from '../lib/insights/language';
import type { Logger } from '../lib/log';
import type { FinishedCall } from '../lib/metrics/call-metrics';
import { applyPromptVariant } from '../lib/routing/prompt-variants';
import type { SwitchboardConfig } from '../schemas/config';
import type { Interaction } from '../schemas/interaction';
import type { LlmRequest, LlmResult } from '../schemas/llm';
import { interactionSubject } from '../workflows/definitions';

export interface InteractionActivityDeps {
  nats: NatsConnection;
  config: () => SwitchboardConfig;
  log: Logger;
  /** Told of every finished call (the worker's `sb_calls_total`). */
  onCallFinished?: (call: FinishedCall) => void;
}

/** A call that gave up: what the failure path reports. */
export interface CallFailureInput {
  route: string;
  provider?: string;
  upstream?: string;
}

export interface RecordInteractionInput {
  /** The request and result as the interaction log may keep them (masked unless `pii.logMode` is `raw`). */
  request: LlmRequest;
  result: LlmResult;
  /** The logical prompt of the entry that answered. */
  prompt?: string;
}

const codec = JSONCodec<Interaction>();

/**
 * Records one interaction per finished call on JetStream `SB_INTERACTIONS`
 * (`sb.interaction.<tenant>`), msgID = callId, so a retried activity records
 * it once. Feedback joins it later by callId.
 */
export function createInteractionActivities({ nats, config, log, onCallFinished }: InteractionActivityDeps) {
  const js = nats.jetstream();
  return {
    async recordInteraction({ request, result, prompt }: RecordInteractionInput): Promise<void> {
      onCallFinished?.({ route: request.route, provider: result.provider, upstream: result.upstream, outcome: result.cached ? 'cache_hit' : result.attempts.length > 1 ? 'recovered' : 'success' });
      const cfg = config();
      const lastUserTurn = request.messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';
      // With `userInput` the last user turn is the product's enhanced prompt built from it.
      const input = request.userInput ?? lastUserTurn;
      const sent = applyPromptVariant(request.messages, prompt, prompt ? cfg.prompts[prompt] : undefined, result.provider).messages;
      const interaction: Interaction = {
        callId: result.callId,
        at: Date.now(),
        tenant: request.tenant,
        ...(request.user ? { user: request.user } : {}),
        ...(request.feature ? { feature: request.feature } : {}),
        route: request.route,
        provider: result.provider,
        model: result.model,
        upstream: result.upstream,
        promptVariant: result.promptVariant,
        input,
        ...(request.userInput !== undefined ? { enhancedPrompt: lastUserTurn } : {}),
        promptAsSent: sent.map((m) => `${m.role}: ${m.content}`).join('\n'),
        output: result.text,
        attempts: result.attempts.length,
        latencyMs: result.latencyMs,
        ...(result.ttftMs !== undefined ? { ttftMs: result.ttftMs } : {}),
        inputTokens: result.usage.inputTokens,
        outputTokens: result.usage.outputTokens,
        costUsd: result.costUsd ?? 0,
        language: detectLanguage(input),
        cacheHit: result.cached,
        validation: result.validation === 'none' ? 'none' : result.validation,
      };
      try {
        await js.publish(interactionSubject(request.tenant), codec.encode(interaction), { msgID: `interaction-${result.callId}` });
      } catch (error) {
        log.error({ err: error, callId: result.callId }, 'could not record the interaction');
      }
    },
    /** Counts a call that gave up (its attempt log travels with the failure; there is no answer to record). */
    async recordCallFailure(input: CallFailureInput): Promise<void> {
      onCallFinished?.({ ...input, outcome: 'failed' });
    },
  };
}
