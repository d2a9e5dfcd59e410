import { JSONCodec, type NatsConnection } from 'nats';
import { detectLanguage } from '../lib/insights/language';
import type { Logger } from '../lib/log';
import { applyPromptVariant } from '../lib/routing/prompt-variants';
import type { SwitchboardConfig } from '../schemas/config';
import type { Interaction } from '../schemas/interaction';
import type { LlmRequest, LlmResult } from '../schemas/llm';
import { interactionSubject } from '../workflows/definitions';

export interface InteractionActivityDeps {
  nats: NatsConnection;
  config: () => SwitchboardConfig;
  log: Logger;
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
export function createInteractionActivities({ nats, config, log }: InteractionActivityDeps) {
  const js = nats.jetstream();
  return {
    async recordInteraction({ request, result, prompt }: RecordInteractionInput): Promise<void> {
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
  };
}
