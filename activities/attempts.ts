import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { NatsConnection } from 'nats';
import type { Logger } from '../lib/log';
import type { CallEventPublisher } from '../lib/nats/call-events';
import { applyPromptVariant } from '../lib/routing/prompt-variants';
import type { PooledUpstream } from '../lib/upstreams/pool';
import type { HealthAwarePicker, ProbePicker, SelectedUpstream } from '../lib/upstreams/selector';
import { type NoUpstream, probeOutcomeOf } from '../lib/health';
import type { BreakerInput, ProbeVerdict, SupervisorProbe } from '../schemas/health';
import { classifyVendorError } from '../lib/vendors/classify';
import type { VendorFailureInfo } from '../lib/vendors/errors';
import type { AttemptFailureDetails, AttemptInput, AttemptSuccess } from '../schemas/call';
import type { CallEvent } from '../schemas/call-event';
import type { SwitchboardConfig } from '../schemas/config';
import { failureTypes } from '../contracts/failures';
import { encodeStreamChunk, streamSubject } from '../lib/nats/stream-chunks';
import { createStreamRestorer } from '../lib/pii';
import type { AttemptJournal } from '../lib/nats/attempt-journal';
import type { CustomValidator } from '../lib/validation';
import { checkAnswer, type RejectedAnswer } from './output-check';
import { routeStreamConfig } from '../schemas/gateway';
import { createStreamedText, isStreamDiverged, prefillOf } from '../lib/vendors/stream-resume';
import { countingSkippedChunks, type SkippedChunks } from '../lib/vendors/sse-filter';

export interface AttemptActivityDeps {
  config: () => SwitchboardConfig;
  /** Health-aware selection (breakers, probes, panic, smooth weighted round-robin by score). */
  pickHealthy: HealthAwarePicker;
  /** Sends a half-open probe's result to the breakerSupervisor of the breaker key (docs/breakers.md). */
  signalBreaker?: (key: string, input: BreakerInput) => Promise<void>;
  /** Takes a slot for the breakerSupervisor's own probe (`probeUpstream`); without it the activity sends none. */
  pickProbe?: ProbePicker;
  /** Breaker cluster stamped on every CallEvent, so registries fold only their own cluster's events. */
  cluster?: string;
  publishCallEvent: CallEventPublisher;
  nats: NatsConnection;
  log: Logger;
  /** Validators a route's `validation.validator` may name. Default none. */
  customValidators?: Record<string, CustomValidator>;
  /** Keeps answers so a re-run of a lost attempt reads them back instead of paying again (not embeddings). */
  journal?: AttemptJournal;
}

function costUsd(config: SwitchboardConfig, model: string, input: number, output: number): number | undefined {
  const price = config.prices[model];
  return price ? (input * price.inputPerMTok + output * price.outputPerMTok) / 1_000_000 : undefined;
}

function streamLimits(config: SwitchboardConfig, route: string): { firstTokenTimeoutMs: number; stallTimeoutMs: number } {
  const { firstTokenTimeoutMs, stallTimeoutMs } = routeStreamConfig(config.gateway, route);
  return { firstTokenTimeoutMs, stallTimeoutMs };
}

export interface AttemptOptions {
  /**
   * The attempt's CallEvent publishes go here instead of being awaited: the
   * caller awaits them before its own activity completes (answerCall, so the
   * event's ack overlaps the interaction record's instead of preceding it).
   */
  deferEvents?: Promise<void>[];
  /** Told of the journal's write of this attempt's answer (true once stored); not called when the answer is not kept. */
  onKept?: (stored: Promise<boolean>) => void;
}

/**
 * One attempt = pick an upstream of the entry's provider, call it through its
 * SDK (retries off), publish a CallEvent whatever happened, then return or
 * throw a non-retryable ApplicationFailure carrying the classification: the
 * workflow, not Temporal's activity retry, decides what comes next.
 */
export function createAttemptActivities(deps: AttemptActivityDeps) {
  const { config, publishCallEvent, nats, log } = deps;

  /** Publishes the event; with `deferred`, the ack is awaited there (by the caller) instead of here. Never throws. */
  async function emit(event: CallEvent, deferred: Promise<void>[] | undefined): Promise<void> {
    const published = publishCallEvent(event).catch((error: unknown) => {
      // The answer matters more than the event: log loudly, do not fail the call.
      log.error({ err: error, callId: event.callId, upstream: event.upstream }, 'could not publish CallEvent');
    });
    if (deferred) deferred.push(published);
    else await published;
  }

  /** One attempt on the upstream `pick` chooses: the ordinary attempt and the supervisor's probe both run here. */
  async function runAttempt(input: AttemptInput, pick: () => Promise<SelectedUpstream | NoUpstream>, options?: AttemptOptions): Promise<AttemptSuccess> {
    const deferred = options?.deferEvents;
    const ctx = Context.current();
    // A short backoff waits here (precise, unlike a workflow timer); then the pick sees the health of now.
    if (input.waitMs) await ctx.sleep(input.waitMs);
    const cfg = config();
    const { request, entry } = input;
    // A streamed answer is kept whole once it has ended, like any other: its re-run reads it back without sending
    // deltas (the relay closes with what it has not sent yet). Embedding vectors are not kept, on purpose: a batch is
    // ~1 MB to write (three times on a replicated bucket) on every call, to save a rare re-run a few thousandths of a
    // dollar — and it would pass NATS's default message size.
    const journal = request.embedding || request.route === PROBE_ROUTE ? undefined : deps.journal;
    if (input.readBack && journal) {
      const kept = await journal.read(input);
      if (kept) {
        log.info(
          { callId: input.callId, workflowId: input.workflowId, attempt: input.attempt, upstream: kept.upstream },
          'answer read back from the attempt journal: the vendor is not asked again',
        );
        return kept;
      }
    }
    const startedAt = Date.now();
    const { messages, variant } = applyPromptVariant(request.messages, entry.prompt, entry.prompt ? cfg.prompts[entry.prompt] : undefined, entry.provider);
    let selected: SelectedUpstream | undefined;
    let upstream: PooledUpstream | undefined;
    let noneReason = `excluded: ${input.exclude.join(', ') || 'none'}`;
    const choice = await pick();
    if ('none' in choice) noneReason = choice.reason;
    else ({ upstream } = selected = choice);
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

    const callLog = log.child({
      callId: input.callId,
      workflowId: input.workflowId,
      attempt: input.attempt,
      upstream: upstream.id,
      model: entry.model,
      pick: selected?.mode,
    });
    const settleProbe = async (event: Pick<CallEvent, 'outcome' | 'at' | 'status' | 'errorType' | 'errorMessage'>) => {
      if (selected?.mode !== 'half_open_probe' || !deps.signalBreaker) return;
      const ok = probeOutcomeOf(event);
      if (ok === undefined) return;
      const error = ok
        ? undefined
        : { at: event.at, outcome: event.outcome, status: event.status, errorType: event.errorType, message: event.errorMessage?.slice(0, 200) };
      const revision = selected.probeRevision;
      await deps
        .signalBreaker(selected.probeKey ?? upstream.id, {
          kind: 'probe_result',
          ok,
          ...(error ? { error } : {}),
          ...(revision !== undefined ? { revision } : {}),
        })
        .catch((err: unknown) => callLog.error({ err }, 'could not report the probe result'));
    };
    // A local activity (the call's first attempt) has no heartbeat: its workflow task's timeout covers a lost worker.
    const heartbeat = ctx.info.isLocal ? undefined : setInterval(() => ctx.heartbeat(), Math.max(200, Math.floor(ctx.info.heartbeatTimeoutMs ?? 3000) / 3));
    heartbeat?.unref();
    let chunkIndex = 0;
    let answeringModel = entry.model;
    // A stream another attempt began and broke: this one streams only what follows the text its caller has.
    const resume = request.stream ? input.resume : undefined;
    const publishDelta = (text: string) => {
      if (text)
        nats.publish(
          streamSubject(input.callId),
          encodeStreamChunk({ type: 'delta', attempt: input.attempt, index: chunkIndex++, text, model: answeringModel, ...(resume ? { resumes: true } : {}) }),
        );
    };
    // Deltas reach the caller with PII restored, even when a placeholder is split across chunks.
    const restorer = input.piiEntities?.length ? createStreamRestorer(input.piiEntities) : undefined;
    // Anthropic continues a trailing assistant turn: the text sent goes as a prefill and the vendor writes only what follows.
    const prefill = resume && upstream.protocol === 'anthropic' && prefillOf(resume.text) ? prefillOf(resume.text) : undefined;
    let streamed = createStreamedText(resume?.text, { continuation: prefill !== undefined });
    let prefillRefused = false;
    const publishRaw = (raw: string) => publishDelta(restorer ? restorer.push(raw) : raw);
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
      ...(resume ? { resumedFromChars: resume.text.length } : {}),
    };
    // Malformed stream events without content are skipped by the SDKs' fetch (lib/vendors/sse-filter.ts): counted, logged, not a failure.
    const skipped: SkippedChunks = { count: 0 };
    const countedVendorCall = async <T>(call: () => Promise<T>): Promise<T> => {
      const counted = countingSkippedChunks(call);
      try {
        return await counted.done;
      } finally {
        if (counted.skipped.count) {
          skipped.count += counted.skipped.count;
          callLog.warn({ skippedChunks: counted.skipped.count, sample: counted.skipped.sample }, 'skipped malformed stream events that carried no content');
        }
      }
    };
    try {
      const callVendor = (withPrefill: boolean) =>
        countedVendorCall(() =>
          upstream.client.call({
            model: entry.model,
            messages: withPrefill && prefill ? [...messages, { role: 'assistant', content: prefill }] : messages,
            ...(request.tools ? { tools: request.tools } : {}),
            ...(request.toolChoice ? { toolChoice: request.toolChoice } : {}),
            ...(request.output ? { output: request.output } : {}),
            ...(request.params ? { params: request.params } : {}),
            stream: request.stream,
            timeoutMs: input.attemptTimeoutMs,
            // The route's stream limits: a late first token or a stall fails this attempt over to the next one.
            ...(request.stream ? streamLimits(cfg, request.route) : {}),
            signal: ctx.cancellationSignal,
            ...(request.embedding ? { embedding: request.embedding } : {}),
            ...(request.stream
              ? {
                  onTextDelta: (text: string, model: string) => {
                    answeringModel = model;
                    // Resumed: quiet until the answer passes the text already sent, stopped at its first difference.
                    publishRaw(streamed.feed(text));
                  },
                }
              : {}),
          }),
        );
      let result = await callVendor(prefill !== undefined).catch(async (error: unknown) => {
        // A vendor (or model) that refuses a prefill is not the caller's fault: ask again without it, matching the text sent instead.
        const refused = classifyVendorError(error, upstream.protocol);
        if (prefill === undefined || chunkIndex > 0 || refused.outcome !== 'caller_fault') throw error;
        callLog.warn({ err: error }, 'the upstream refused the assistant prefill; resuming without it');
        // The refused request is on record like any other (its own event id; neutral for health: the caller's side of the protocol).
        await emit(
          {
            ...base,
            eventId: randomUUID(),
            at: Date.now(),
            outcome: 'caller_fault',
            ...(refused.status !== undefined ? { status: refused.status } : {}),
            errorType: refused.errorType,
            errorMessage: `assistant prefill refused; asked again without it: ${refused.message}`.slice(0, 500),
            latencyMs: performance.now() - started,
          },
          deferred,
        );
        streamed = createStreamedText(resume!.text);
        prefillRefused = true;
        return callVendor(false);
      });
      streamed.end();
      result = { ...result, text: streamed.whole(result.text) };
      if (restorer) publishDelta(restorer.flush());
      rejected = request.embedding ? undefined : checkAnswer(input, result, deps.customValidators ?? {});
      if (rejected) throw rejected.failure;
      const latencyMs = performance.now() - started;
      const cost = costUsd(cfg, entry.model, result.usage.inputTokens, result.usage.outputTokens);
      const at = Date.now();
      await settleProbe({ outcome: 'success', at });
      await emit(
        {
          ...base,
          at,
          outcome: 'success',
          status: result.status,
          latencyMs,
          ...(resume ? { resumedBy: prefill && !prefillRefused ? ('prefill' as const) : ('matching' as const) } : {}),
          ...(skipped.count ? { skippedChunks: skipped.count } : {}),
          ...(result.ttftMs !== undefined ? { ttftMs: result.ttftMs } : {}),
          inputTokens: result.usage.inputTokens,
          outputTokens: result.usage.outputTokens,
          ...(cost !== undefined ? { costUsd: cost } : {}),
          ...(result.rateLimit ? { rateLimit: result.rateLimit } : {}),
        },
        deferred,
      );
      callLog.debug(
        { latencyMs, status: result.status, ...(resume ? { resumed: prefill && !prefillRefused ? 'prefill' : 'matching the text sent' } : {}) },
        'attempt succeeded',
      );
      const success: AttemptSuccess = {
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
        ...(result.embeddings ? { embeddings: result.embeddings } : {}),
        ...(result.logprobs ? { logprobs: result.logprobs } : {}),
      };
      if (journal) {
        const stored = journal.keep(input, success);
        options?.onKept?.(stored);
      }
      return success;
    } catch (error) {
      const latencyMs = performance.now() - started;
      // A different answer is not a sick upstream: neutral for health, like an answer that failed its checks.
      const info: VendorFailureInfo = isStreamDiverged(error)
        ? { outcome: 'invalid_output', errorType: 'stream_diverged', message: error.message }
        : classifyVendorError(error, upstream.protocol);
      const at = Date.now();
      await settleProbe({
        outcome: info.outcome,
        at,
        ...(info.status !== undefined ? { status: info.status } : {}),
        errorType: info.errorType,
        errorMessage: info.message,
      });
      await emit(
        {
          ...base,
          at,
          outcome: info.outcome,
          ...(info.status !== undefined ? { status: info.status } : {}),
          errorType: info.errorType,
          errorMessage: info.message.slice(0, 500),
          ...(skipped.count ? { skippedChunks: skipped.count } : {}),
          latencyMs,
          ...(info.retryAfterMs !== undefined ? { retryAfterMs: info.retryAfterMs } : {}),
          ...(info.rateLimit ? { rateLimit: info.rateLimit } : {}),
        },
        deferred,
      );
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
        // What its caller already has (resumed text included): the next attempt continues from there.
        ...(request.stream && streamed.delivered(restorer?.held() ?? '') ? { streamed: streamed.delivered(restorer?.held() ?? '') } : {}),
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
  }

  return {
    /** Temporal passes only `input`; `options` is for callers in the same process (answerCall). */
    attemptCall: (input: AttemptInput, options?: AttemptOptions): Promise<AttemptSuccess> =>
      runAttempt(input, () => deps.pickHealthy(input.entry.provider, input.entry.model, new Set(input.exclude), input.allowPanic ?? false), options),

    /**
     * The breakerSupervisor's own half-open probe: one tiny request to
     * `upstream` through the ordinary attempt (a CallEvent like any other),
     * holding a slot of the cluster-wide probe budget of `revision`.
     */
    async probeUpstream(probe: SupervisorProbe): Promise<ProbeVerdict> {
      const { pickProbe } = deps;
      if (!pickProbe) return { sent: false, reason: 'this worker sends no probes' };
      const cfg = config();
      const provider = probe.upstream.slice(0, probe.upstream.indexOf('/'));
      const model =
        probe.model ??
        Object.values(cfg.routes)
          .flatMap((r) => r.entries)
          .find((e) => e.provider === provider)?.model;
      if (!model) return { sent: false, reason: `no route names a model of ${provider}` };
      const workflowId = Context.current().info.workflowExecution?.workflowId ?? `probe-${probe.upstream}`;
      const input: AttemptInput = {
        callId: `probe-${randomUUID()}`,
        workflowId,
        attempt: 1,
        request: { route: PROBE_ROUTE, tenant: PROBE_TENANT, stream: false, messages: [{ role: 'user', content: 'Reply with OK.' }], params: { maxTokens: 1 } },
        entry: { provider, model, upstreamCount: 1 },
        exclude: [],
        attemptTimeoutMs: cfg.timeouts.attemptMs,
      };
      try {
        await runAttempt(input, () => pickProbe(probe.key, probe.upstream, model, probe.revision, probe.budget));
        return { sent: true, ok: true, reason: `probe of ${model} succeeded` };
      } catch (error) {
        const details = (error as ApplicationFailure).details?.[0] as AttemptFailureDetails | undefined;
        if (!details || details.outcome === 'no_upstream') return { sent: false, reason: details?.message ?? String(error) };
        const ok = probeOutcomeOf({ outcome: details.outcome });
        const failed = {
          at: Date.now(),
          outcome: details.outcome,
          ...(details.status !== undefined ? { status: details.status } : {}),
          errorType: details.errorType,
          message: details.message.slice(0, 200),
        };
        return {
          sent: true,
          ...(ok !== undefined ? { ok } : {}),
          ...(ok === false ? { error: failed } : {}),
          reason: `probe of ${model}: ${details.outcome} ${details.errorType}`,
        };
      }
    },
  };
}

/** Route and tenant named by the supervisor's probes in their CallEvents. */
export const PROBE_ROUTE = 'breaker-probe';
const PROBE_TENANT = 'switchboard';
