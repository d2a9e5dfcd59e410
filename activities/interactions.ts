import { JSONCodec, type NatsConnection } from 'nats';
import { answeredOutcome } from '../lib/call/result';
import { detectLanguage } from '../lib/insights/language';
import type { Logger } from '../lib/log';
import type { FinishedCall } from '../lib/metrics/call-metrics';
import type { Outbox } from '../lib/nats/outbox';
import { applyPromptVariant } from '../lib/routing/prompt-variants';
import type { SwitchboardConfig } from '../schemas/config';
import type { Interaction } from '../schemas/interaction';
import type { LlmRequest } from '../schemas/llm';
import { interactionSubject } from '../contracts/names';
import type { RecordInteractionInput } from '../lib/call/finish';

export type { RecordInteractionInput };

export interface InteractionActivityDeps {
  nats: NatsConnection;
  /** Publishes through the process's outbox (a NATS blip delays a record instead of losing it). Default: JetStream directly. */
  outbox?: Outbox;
  config: () => SwitchboardConfig;
  log: Logger;
  /** Told of every finished call (the worker's `sb_calls_total`). */
  onCallFinished?: (call: FinishedCall) => void;
}

/** A call that gave up: what the failure path records (no answer; the last entry and upstream tried). */
export interface CallFailureInput {
  callId: string;
  /** As the interaction log may keep it (masked unless `pii.logMode` is `raw`). */
  request: LlmRequest;
  provider: string;
  model: string;
  upstream?: string;
  promptVariant: string;
  /** The logical prompt of the entry tried last. */
  prompt?: string;
  attempts: number;
  latencyMs: number;
  /** The final reason, as the caller is told. */
  error: string;
}

const codec = JSONCodec<Interaction>();

/**
 * Records one interaction per finished call on JetStream `SB_INTERACTIONS`
 * (`sb.interaction.<tenant>`), msgID = callId, so a retried activity records
 * it once. Feedback joins it later by callId.
 */
export function createInteractionActivities({ nats, outbox, config, log, onCallFinished }: InteractionActivityDeps) {
  const js = nats.jetstream();

  /** The fields every record has: who asked what, and the prompt as the vendor of `provider` got it. */
  function requestFields(request: LlmRequest, provider: string, prompt: string | undefined) {
    const cfg = config();
    const lastUserTurn = request.messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';
    // With `userInput` the last user turn is the product's enhanced prompt built from it.
    const input = request.userInput ?? lastUserTurn;
    const sent = applyPromptVariant(request.messages, prompt, prompt ? cfg.prompts[prompt] : undefined, provider).messages;
    return {
      at: Date.now(),
      tenant: request.tenant,
      ...(request.user ? { user: request.user } : {}),
      ...(request.feature ? { feature: request.feature } : {}),
      route: request.route,
      input,
      ...(request.userInput !== undefined ? { enhancedPrompt: lastUserTurn } : {}),
      promptAsSent: sent.map((m) => `${m.role}: ${m.content}`).join('\n'),
      language: detectLanguage(input),
    };
  }

  async function publish(interaction: Interaction): Promise<void> {
    try {
      const msgID = `interaction-${interaction.callId}`;
      if (outbox) await outbox.publish(interactionSubject(interaction.tenant), codec.encode(interaction), msgID);
      else await js.publish(interactionSubject(interaction.tenant), codec.encode(interaction), { msgID });
    } catch (error) {
      log.error({ err: error, callId: interaction.callId }, 'could not record the interaction');
    }
  }

  return {
    async recordInteraction({ request, result, prompt }: RecordInteractionInput): Promise<void> {
      onCallFinished?.({ route: request.route, provider: result.provider, upstream: result.upstream, outcome: answeredOutcome(result) });
      await publish({
        callId: result.callId,
        ...requestFields(request, result.provider, prompt),
        provider: result.provider,
        model: result.model,
        upstream: result.upstream,
        promptVariant: result.promptVariant,
        output: result.text,
        attempts: result.attempts.length,
        latencyMs: result.latencyMs,
        ...(result.ttftMs !== undefined ? { ttftMs: result.ttftMs } : {}),
        inputTokens: result.usage.inputTokens,
        outputTokens: result.usage.outputTokens,
        costUsd: result.costUsd ?? 0,
        cacheHit: result.cached,
        validation: result.validation === 'none' ? 'none' : result.validation,
        outcome: 'answered',
      });
    },
    /** Records (and counts) a call that gave up: every call is an interaction, the failed ones with their reason. */
    async recordCallFailure(input: CallFailureInput): Promise<void> {
      onCallFinished?.({ route: input.request.route, provider: input.provider, ...(input.upstream ? { upstream: input.upstream } : {}), outcome: 'failed' });
      await publish({
        callId: input.callId,
        ...requestFields(input.request, input.provider, input.prompt),
        provider: input.provider,
        model: input.model,
        upstream: input.upstream ?? 'none',
        promptVariant: input.promptVariant,
        output: '',
        attempts: input.attempts,
        latencyMs: input.latencyMs,
        inputTokens: 0,
        outputTokens: 0,
        costUsd: 0,
        cacheHit: false,
        validation: 'none',
        outcome: 'failed',
        error: input.error,
      });
    },
  };
}
