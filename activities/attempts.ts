import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { NatsConnection } from 'nats';
import type { Logger } from '../lib/log';
import type { CallEventPublisher } from '../lib/nats/call-events';
import { applyPromptVariant } from '../lib/routing/prompt-variants';
import type { PooledUpstream } from '../lib/routing/upstream-pool';
import type { HealthAwarePicker, SelectedUpstream } from '../lib/health-registry/upstream-selector';
import { probeOutcomeOf } from '../lib/health';
import type { BreakerInput } from '../schemas/health';
import { classifyVendorError } from '../lib/vendors/classify';
import type { VendorFailureInfo } from '../lib/vendors/errors';
import type { AttemptFailureDetails, AttemptInput, AttemptSuccess } from '../schemas/call';
import type { CallEvent } from '../schemas/call-event';
import type { SwitchboardConfig } from '../schemas/config';
import { failureTypes } from '../workflows/definitions';
import { encodeStreamChunk, streamSubject } from '../lib/nats/stream-chunks';
import { createStreamRestorer } from '../lib/pii';
import type { CustomValidator } from '../lib/validation';
import { checkAnswer, type RejectedAnswer } from './output-check';
import { routeStreamConfig } from '../schemas/gateway';

export interface AttemptActivityDeps {
  config: () => SwitchboardConfig;
  /** Health-aware selection (breakers, probes, panic, smooth weighted round-robin by score). */
  pickHealthy: HealthAwarePicker;
  /** Sends a half-open probe's result to the upstream's breakerSupervisor. */
  signalBreaker?: (upstream: string, input: BreakerInput) => Promise<void>;
  /** Breaker cluster stamped on every CallEvent, so registries fold only their own cluster's events. */
  cluster?: string;
  publishCallEvent: CallEventPublisher;
  nats: NatsConnection;
  log: Logger;
  /** Validators a route's `validation.validator` may name. Default none. */
  customValidators?: Record<string, CustomValidator>;
}

function costUsd(config: SwitchboardConfig, model: string, input: number, output: number): number | undefined {
  const price = config.prices[model];
  return price ? (input * price.inputPerMTok + output * price.outputPerMTok) / 1_000_000 : undefined;
}

function streamLimits(config: SwitchboardConfig, route: string): { firstTokenTimeoutMs: number; stallTimeoutMs: number } {
  const { firstTokenTimeoutMs, stallTimeoutMs } = routeStreamConfig(config.gateway, route);
  return { firstTokenTimeoutMs, stallTimeoutMs };
}

/**
 * One attempt = pick an upstream of the entry's provider, call it through its
 * SDK (retries off), publish a CallEvent whatever happened, then return or
 * throw a non-retryable ApplicationFailure carrying the classification: the
 * workflow, not Temporal's activity retry, decides what comes next.
 */
export function createAttemptActivities(deps: AttemptActivityDeps) {
  const { config, publishCallEvent, nats, log } = deps;

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
      const startedAt = Date.now();
      const { messages, variant } = applyPromptVariant(request.messages, entry.prompt, entry.prompt ? cfg.prompts[entry.prompt] : undefined, entry.provider);
      const exclude = new Set(input.exclude);
      let selected: SelectedUpstream | undefined;
      let upstream: PooledUpstream | undefined;
      let noneReason = `excluded: ${input.exclude.join(', ') || 'none'}`;
      const choice = await deps.pickHealthy(entry.provider, entry.model, exclude, input.allowPanic ?? false);
      if ('none' in choice) noneReason = choice.reason;
      else ({ upstream } = (selected = choice));
      if (!upstream) {
        const details: AttemptFailureDetails = {
          outcome: 'no_upstream',
          errorType: 'no_upstream',
          message: `no usable upstream of ${entry.provider} (${noneReason})`,
          promptVariant: variant,
          latencyMs: 0,
          startedAt,
        };
        throw ApplicationFailure.create({ type: failureTypes.attemptFailed, message: details.message, nonRetryable: true, details: [details] });
      }

      const callLog = log.child({ callId: input.callId, workflowId: input.workflowId, attempt: input.attempt, upstream: upstream.id, model: entry.model, pick: selected?.mode });
      const settleProbe = async (event: Pick<CallEvent, 'outcome' | 'at' | 'status' | 'errorType' | 'errorMessage'>) => {
        if (selected?.mode !== 'half_open_probe' || !deps.signalBreaker) return;
        const ok = probeOutcomeOf(event);
        if (ok === undefined) return;
        const error = ok ? undefined : { at: event.at, outcome: event.outcome, status: event.status, errorType: event.errorType, message: event.errorMessage?.slice(0, 200) };
        await deps.signalBreaker(upstream.id, { kind: 'probe_result', ok, ...(error ? { error } : {}) }).catch((err: unknown) => callLog.error({ err }, 'could not report the probe result'));
      };
      const heartbeat = setInterval(() => ctx.heartbeat(), Math.max(200, Math.floor(ctx.info.heartbeatTimeoutMs ?? 3000) / 3));
      heartbeat.unref();
      let chunkIndex = 0;
      const publishDelta = (text: string) => {
        if (text) nats.publish(streamSubject(input.callId), encodeStreamChunk({ type: 'delta', attempt: input.attempt, index: chunkIndex++, text }));
      };
      // Deltas reach the caller with PII restored, even when a placeholder is split across chunks.
      const restorer = input.piiEntities?.length ? createStreamRestorer(input.piiEntities) : undefined;
      let rejected: RejectedAnswer | undefined;
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
        ...(deps.cluster ? { cluster: deps.cluster } : {}),
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
          // The route's stream limits: a late first token or a stall fails this attempt over to the next one.
          ...(request.stream ? streamLimits(cfg, request.route) : {}),
          signal: ctx.cancellationSignal,
          ...(request.stream
            ? { onTextDelta: (text: string) => publishDelta(restorer ? restorer.push(text) : text) }
            : {}),
        });
        if (restorer) publishDelta(restorer.flush());
        rejected = checkAnswer(input, result, deps.customValidators ?? {});
        if (rejected) throw rejected.failure;
        const latencyMs = performance.now() - started;
        const cost = costUsd(cfg, entry.model, result.usage.inputTokens, result.usage.outputTokens);
        const at = Date.now();
        await settleProbe({ outcome: 'success', at });
        await emit({
          ...base,
          at,
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
        const at = Date.now();
        await settleProbe({ outcome: info.outcome, at, ...(info.status !== undefined ? { status: info.status } : {}), errorType: info.errorType, errorMessage: info.message });
        await emit({
          ...base,
          at,
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
          ...(rejected ? { repair: rejected.repair } : {}),
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
        await selected?.release();
      }
    },
  };
}
