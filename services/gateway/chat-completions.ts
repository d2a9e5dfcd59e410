/** `POST /v1/chat/completions` (OpenAI) and `POST /v1/messages` (Anthropic): one llmCall each. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { routeStreamConfig } from '../../schemas/gateway';
import type { LlmRequest, LlmRequestInput, LlmResult } from '../../schemas/llm';
import { estimateTokens } from './admission';
import { toAnthropicMessage } from './anthropic/response';
import { anthropicStreamDialect } from './anthropic/stream';
import { parseAnthropicMessages } from './anthropic/request';
import { decideShedding, waitBeforeFirstAttemptMs } from '../../lib/admission/load-shedding';
import { deadlineError, gatewayErrorOfCall } from './call-errors';
import { finaliseRequest, requestChars } from './call-request';
import { isSwitchboardCallError } from '../../lib/client/errors';
import { callIdFor, type StartedCall } from './calls';
import type { GatewayContext } from './context';
import { temporalUnavailable } from './dependency-errors';
import { GatewayError, type ErrorDialect } from './http-errors';
import { clientAddress, parseJsonBody, readBody, sendJson } from './http-io';
import { parseOpenAiChat } from './openai/request';
import { resultHeaders, toChatCompletion } from './openai/response';
import { openAiStreamDialect } from './openai/stream';
import { relayStream, type StreamDialect } from './stream-relay';

/** Margin over the call's own deadline, so the workflow's (explained) deadline failure normally wins. */
const DEADLINE_MARGIN_MS = 2_000;

/**
 * Runs `run` under admission: the request's estimate is charged up front;
 * `finish(result)` — which `run` awaits before the answer's last byte goes out,
 * so the user's next request finds their slot free — settles the real usage
 * and returns the in-flight slot (on failure, the `finally` returns it). On a
 * queueing route a request over the limit waits its turn.
 */
export async function admitted<T>(
  ctx: GatewayContext,
  req: IncomingMessage,
  request: LlmRequest,
  run: (finish: (result: LlmResult) => Promise<void>, progressed: () => void) => Promise<T>,
): Promise<T> {
  await shedIfOverloaded(ctx, request);
  const { admission: admissionConfig } = ctx.config.gateway;
  const queue = admissionConfig.queues[request.route];
  const { tenant, key } = ctx.tenants.identify(req);
  const address = clientAddress(req, admissionConfig.trustProxy);
  const ask = {
    tenant: request.tenant,
    keyName: key.name,
    tenantLimits: tenant.limits,
    keyLimits: key.limits,
    user: request.user,
    ip: address.ip,
    ipTrusted: address.trusted,
    estimatedTokens: estimateTokens(requestChars(request), request.params?.maxTokens),
    ...(queue ? { queued: true } : {}),
  };
  const admission = queue
    ? await ctx.admissionQueue.admit(
        `${request.tenant}/${request.user ?? `ip:${ask.ip}`}`,
        queue,
        () => ctx.admission.admit(ask),
        () => ctx.metrics.admissionQueued.inc({ route: request.route }),
      )
    : await ctx.admission.admit(ask);
  ctx.metrics.admissions.inc({ store: admission.local ? 'local' : 'shared' });
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    await admission.release().catch((error: unknown) => ctx.log.warn({ err: error }, 'could not release an admission lease (it expires on its own)'));
  };
  const inFlight = ctx.load.begin();
  const finish = async (result: LlmResult) => {
    inFlight.answered(waitBeforeFirstAttemptMs(result, inFlight.admittedAtEpochMs));
    if (released) return;
    released = true;
    // A cache hit spent no vendor tokens.
    const used = result.cached ? 0 : result.usage.inputTokens + result.usage.outputTokens;
    await admission
      .finish(used)
      .catch((error: unknown) => ctx.log.warn({ err: error }, 'could not settle the tokens of a call and return its slot (the slot expires on its own)'));
  };
  try {
    return await run(finish, () => inFlight.progressed());
  } finally {
    inFlight.end();
    await release();
  }
}

/** A 503 with retry-after, before anything is spent, when this call could not be answered within its deadline. */
async function shedIfOverloaded(ctx: GatewayContext, request: LlmRequest): Promise<void> {
  const policy = ctx.config.gateway.shedding;
  if (!policy.enabled) return;
  const load = ctx.load.snapshot();
  const decision = decideShedding(load, request.deadlineMs ?? ctx.config.gateway.deadlineMs, { ...policy, adaptive: policy.adaptiveLimit.enabled });
  if (!decision.shed) return;
  // Nothing finishes while Temporal is away, so the estimate says nothing about when to come back: name the cause.
  // Unless a call got its answer after the failed check began: then Temporal answers, only too slowly for the
  // check under this load (the stack bench's overload saw such refusals named Temporal).
  if (!(await ctx.temporal.isReachable()) && !ctx.load.answeredSince(ctx.temporal.lastAnswerFrom() ?? 0)) throw temporalUnavailable();
  const seconds = Math.ceil(decision.retryAfterMs / 1000);
  const why = {
    max_in_flight: `${policy.maxInFlight} calls in flight in this gateway`,
    limit: `${load.limit} calls in flight in this gateway, the most it admits while calls queue in the stack`,
    deadline: `a new call would take ~${Math.round(decision.estimateMs / 1000)} s, beyond ${Math.round(policy.shareOfDeadline * 100)}% of its deadline`,
  }[decision.reason];
  throw new GatewayError(503, 'service_unavailable', `overloaded: ${why}; retry after ${seconds} s`, {
    code: 'overloaded',
    headers: { 'retry-after': String(seconds), 'retry-after-ms': String(decision.retryAfterMs) },
  });
}

function awaitWithDeadline(ctx: GatewayContext, call: StartedCall): Promise<LlmResult> {
  const ms = ctx.config.gateway.deadlineMs + DEADLINE_MARGIN_MS;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void call.cancel();
      reject(deadlineError(call.callId, ctx.config.gateway.deadlineMs));
    }, ms);
  });
  return Promise.race([call.result(), deadline]).finally(() => clearTimeout(timer));
}

async function answer(ctx: GatewayContext, request: LlmRequest): Promise<LlmResult> {
  const callId = callIdFor(request);
  const call = await ctx.startCall(callId, request);
  try {
    return await awaitWithDeadline(ctx, call);
  } catch (error) {
    throw isSwitchboardCallError(error) ? gatewayErrorOfCall(error, callId) : error;
  }
}

export async function prepare(
  ctx: GatewayContext,
  req: IncomingMessage,
  parse: (raw: unknown) => LlmRequestInput,
  dialect: ErrorDialect = 'openai',
): Promise<LlmRequest> {
  const tenant = ctx.tenants.authenticate(req);
  const raw = parseJsonBody(await readBody(req, ctx.config.gateway.maxBodyBytes));
  return finaliseRequest(parse(raw), tenant, req.headers, ctx.config, dialect);
}

/** `Server-Timing`: the gateway's own time apart from waiting for the workflow, so its overhead is measurable in production too. */
export function serverTiming(arrivedAt: number, callMs: number): Record<string, string> {
  const totalMs = performance.now() - arrivedAt;
  return { 'server-timing': `gateway;dur=${(totalMs - callMs).toFixed(2)}, call;dur=${callMs.toFixed(2)}` };
}

export async function timedAnswer(ctx: GatewayContext, request: LlmRequest): Promise<{ result: LlmResult; callMs: number }> {
  const started = performance.now();
  const result = await answer(ctx, request);
  return { result, callMs: performance.now() - started };
}

export async function handleChatCompletions(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse): Promise<string> {
  const arrivedAt = performance.now();
  let includeUsage = false;
  const request = await prepare(ctx, req, (raw) => {
    const parsed = parseOpenAiChat(raw);
    includeUsage = parsed.includeUsage;
    return parsed.request;
  });
  await admitted(ctx, req, request, async (finish, progressed) => {
    if (!request.stream) {
      const { result, callMs } = await timedAnswer(ctx, request);
      await finish(result);
      const body = toChatCompletion(result, Math.floor(Date.now() / 1000));
      sendJson(res, 200, body, { ...resultHeaders(result), ...serverTiming(arrivedAt, callMs) });
      return;
    }
    const callId = callIdFor(request);
    await streamAnswer(ctx, request, callId, res, openAiStreamDialect({ callId, route: request.route, includeUsage }), finish, progressed);
  });
  return request.route;
}

export async function handleMessages(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse): Promise<string> {
  const arrivedAt = performance.now();
  const request = await prepare(ctx, req, parseAnthropicMessages, 'anthropic');
  await admitted(ctx, req, request, async (finish, progressed) => {
    if (!request.stream) {
      const { result, callMs } = await timedAnswer(ctx, request);
      await finish(result);
      sendJson(res, 200, toAnthropicMessage(result), { ...resultHeaders(result), ...serverTiming(arrivedAt, callMs) });
      return;
    }
    const callId = callIdFor(request);
    await streamAnswer(ctx, request, callId, res, anthropicStreamDialect({ callId, route: request.route }), finish, progressed);
  });
  return request.route;
}

/** One streamed call in either dialect, relayed live (or buffered, per the route's stream settings). */
export async function streamAnswer(
  ctx: GatewayContext,
  request: LlmRequest,
  callId: string,
  res: ServerResponse,
  dialect: StreamDialect,
  finish: (result: LlmResult) => Promise<void>,
  /** The first token went out: the call is under way (load shedding's stall estimate leaves it out). */
  progressed?: () => void,
): Promise<void> {
  const started = performance.now();
  const outcome = await relayStream({
    res,
    nats: ctx.nats,
    callId,
    mode: routeStreamConfig(ctx.config.gateway, request.route).mode,
    midStream: routeStreamConfig(ctx.config.gateway, request.route).midStream,
    dialect,
    start: () => ctx.startCall(callId, request),
    awaitResult: async (call) => {
      const result = await awaitWithDeadline(ctx, call);
      await finish(result);
      return result;
    },
    cancelOnAbandon: !request.idempotencyKey,
    onFirstToken: () => {
      ctx.metrics.ttft.observe((performance.now() - started) / 1000);
      progressed?.();
    },
  });
  ctx.metrics.streamOutcomes.inc({ outcome });
}
