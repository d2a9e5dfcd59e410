import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { NatsConnection } from 'nats';
import type { Logger } from '../lib/log';
import type { CallEventPublisher } from '../lib/nats/call-events';
import { applyPromptVariant } from '../lib/routing/prompt-variants';
import type { UpstreamPicker, UpstreamPool } from '../lib/routing/upstream-pool';
import { classifyVendorError } from '../lib/vendors/classify';
import type { VendorFailureInfo } from '../lib/vendors/errors';
import type { AttemptFailureDetails, AttemptInput, AttemptSuccess } from '../schemas/call';
import type { CallEvent } from '../schemas/call-event';
import type { SwitchboardConfig } from '../schemas/config';
import { failureTypes } from '../workflows/definitions';
import { encodeStreamChunk, streamSubject } from '../lib/nats/stream-chunks';

export interface AttemptActivityDeps {
  config: () => SwitchboardConfig;
  pool: () => UpstreamPool;
  /** Defaults to the pool's weighted round-robin. */
  pickUpstream?: UpstreamPicker;
  publishCallEvent: CallEventPublisher;
  nats: NatsConnection;
  log: Logger;
}

function costUsd(config: SwitchboardConfig, model: string, input: number, output: number): number | undefined {
  const price = config.prices[model];
  return price ? (input * price.inputPerMTok + output * price.outputPerMTok) / 1_000_000 : undefined;
}

/**
 * One attempt = pick an upstream of the entry's provider, call it through its
 * SDK (retries off), publish a CallEvent whatever happened, then return or
 * throw a non-retryable ApplicationFailure carrying the classification: the
 * workflow, not Temporal's activity retry, decides what comes next.
 */
export function createAttemptActivities(deps: AttemptActivityDeps) {
  const { config, pool, publishCallEvent, nats, log } = deps;

  async function emit(event: CallEvent): Promise<void> {
    try {
      await publishCallEvent(event);
    } catch (error) {
      // The answer matters more than the event: log loudly, do not fail the call.
      log.error({ err: error, callId: event.callId, upstream: event.upstream }, 'could not publish CallEvent');
    }
  }

  return {
    async attemptCall(input: AttemptInput): Promise<AttemptSuccess> {
      const ctx = Context.current();
      const cfg = config();
      const { request, entry } = input;
      const pick = deps.pickUpstream ?? pool().pickWeighted;
      const startedAt = Date.now();
      const { messages, variant } = applyPromptVariant(request.messages, entry.prompt, entry.prompt ? cfg.prompts[entry.prompt] : undefined, entry.provider);
      const upstream = pick(entry.provider, new Set(input.exclude));
      if (!upstream) {
        const details: AttemptFailureDetails = {
          outcome: 'no_upstream',
          errorType: 'no_upstream',
          message: `no usable upstream of ${entry.provider} (excluded: ${input.exclude.join(', ') || 'none'})`,
          promptVariant: variant,
          latencyMs: 0,
          startedAt,
        };
        throw ApplicationFailure.create({ type: failureTypes.attemptFailed, message: details.message, nonRetryable: true, details: [details] });
      }

      const callLog = log.child({ callId: input.callId, workflowId: input.workflowId, attempt: input.attempt, upstream: upstream.id, model: entry.model });
      const heartbeat = setInterval(() => ctx.heartbeat(), Math.max(200, Math.floor(ctx.info.heartbeatTimeoutMs ?? 3000) / 3));
      heartbeat.unref();
      let chunkIndex = 0;
      const started = performance.now();
      const base = {
        eventId: randomUUID(),
        callId: input.callId,
        workflowId: input.workflowId,
        attempt: input.attempt,
        tenant: request.tenant,
        route: request.route,
        ...(request.feature ? { feature: request.feature } : {}),
        provider: entry.provider,
        upstream: upstream.id,
        model: entry.model,
        promptVariant: variant,
        stream: request.stream,
      };
      try {
        const result = await upstream.client.call({
          model: entry.model,
          messages,
          ...(request.tools ? { tools: request.tools } : {}),
          ...(request.toolChoice ? { toolChoice: request.toolChoice } : {}),
          ...(request.output ? { output: request.output } : {}),
          ...(request.params ? { params: request.params } : {}),
          stream: request.stream,
          timeoutMs: input.attemptTimeoutMs,
          signal: ctx.cancellationSignal,
          ...(request.stream
            ? { onTextDelta: (text: string) => nats.publish(streamSubject(input.callId), encodeStreamChunk({ type: 'delta', attempt: input.attempt, index: chunkIndex++, text })) }
            : {}),
        });
        const latencyMs = performance.now() - started;
        const cost = costUsd(cfg, entry.model, result.usage.inputTokens, result.usage.outputTokens);
        await emit({
          ...base,
          at: Date.now(),
          outcome: 'success',
          status: result.status,
          latencyMs,
          ...(result.ttftMs !== undefined ? { ttftMs: result.ttftMs } : {}),
          inputTokens: result.usage.inputTokens,
          outputTokens: result.usage.outputTokens,
          ...(cost !== undefined ? { costUsd: cost } : {}),
          ...(result.rateLimit ? { rateLimit: result.rateLimit } : {}),
        });
        callLog.debug({ latencyMs, status: result.status }, 'attempt succeeded');
        return {
          upstream: upstream.id,
          promptVariant: variant,
          text: result.text,
          ...(result.toolCalls ? { toolCalls: result.toolCalls } : {}),
          ...(request.output ? { output: result.output } : {}),
          finishReason: result.finishReason,
          usage: result.usage,
          model: result.model,
          ...(cost !== undefined ? { costUsd: cost } : {}),
          latencyMs,
          startedAt,
          ...(result.ttftMs !== undefined ? { ttftMs: result.ttftMs } : {}),
          ...(result.rateLimit ? { rateLimit: result.rateLimit } : {}),
        };
      } catch (error) {
        const latencyMs = performance.now() - started;
        const info: VendorFailureInfo = classifyVendorError(error, upstream.protocol);
        await emit({
          ...base,
          at: Date.now(),
          outcome: info.outcome,
          ...(info.status !== undefined ? { status: info.status } : {}),
          errorType: info.errorType,
          errorMessage: info.message.slice(0, 500),
          latencyMs,
          ...(info.retryAfterMs !== undefined ? { retryAfterMs: info.retryAfterMs } : {}),
          ...(info.rateLimit ? { rateLimit: info.rateLimit } : {}),
        });
        if (request.stream && chunkIndex > 0) {
          nats.publish(streamSubject(input.callId), encodeStreamChunk({ type: 'attempt_failed', attempt: input.attempt, reason: info.errorType }));
        }
        callLog.warn({ outcome: info.outcome, errorType: info.errorType, status: info.status, latencyMs }, 'attempt failed');
        const details: AttemptFailureDetails = {
          outcome: info.outcome,
          errorType: info.errorType,
          message: info.message,
          ...(info.status !== undefined ? { status: info.status } : {}),
          ...(info.retryAfterMs !== undefined ? { retryAfterMs: info.retryAfterMs } : {}),
          upstream: upstream.id,
          promptVariant: variant,
          latencyMs,
          startedAt,
        };
        throw ApplicationFailure.create({
          type: failureTypes.attemptFailed,
          message: `${upstream.id}: ${info.outcome} ${info.errorType}${info.status ? ` (${info.status})` : ''}: ${info.message}`,
          nonRetryable: true,
          details: [details],
          cause: error instanceof Error ? error : undefined,
        });
      } finally {
        clearInterval(heartbeat);
      }
    },
  };
}
