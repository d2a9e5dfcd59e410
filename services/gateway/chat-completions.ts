/** `POST /v1/chat/completions` (OpenAI) and `POST /v1/messages` (Anthropic): one llmCall each. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { routeStreamConfig } from '../../schemas/gateway';
import type { LlmRequest, LlmRequestInput, LlmResult } from '../../schemas/llm';
import { estimateTokens } from './admission';
import { anthropicStreamEvents, toAnthropicMessage } from './anthropic-response';
import { parseAnthropicMessages } from './anthropic-request';
import { deadlineError, gatewayErrorOfCall } from './call-errors';
import { finaliseRequest, requestChars } from './call-request';
import { callIdFor, isCallFailedError, type StartedCall } from './calls';
import type { GatewayContext } from './context';
import { clientIp, parseJsonBody, readBody, sendJson } from './http-io';
import { parseOpenAiChat } from './openai-request';
import { resultHeaders, toChatCompletion } from './openai-response';
import { relayOpenAiStream } from './openai-stream';

/** Margin over the call's own deadline, so the workflow's (explained) deadline failure normally wins. */
const DEADLINE_MARGIN_MS = 2_000;

async function admitted<T>(ctx: GatewayContext, req: IncomingMessage, request: LlmRequest, run: () => Promise<T>): Promise<T> {
  const admission = await ctx.admission.admit({
    tenant: request.tenant,
    user: request.user,
    ip: clientIp(req),
    estimatedTokens: estimateTokens(requestChars(request), request.params?.maxTokens),
    holdMs: ctx.config.gateway.deadlineMs + DEADLINE_MARGIN_MS,
  });
  try {
    return await run();
  } finally {
    await admission.release().catch((error: unknown) => ctx.log.warn({ err: error }, 'could not release an admission lease (it expires on its own)'));
  }
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
    throw isCallFailedError(error) ? gatewayErrorOfCall(error, callId) : error;
  }
}

async function prepare(ctx: GatewayContext, req: IncomingMessage, parse: (raw: unknown) => LlmRequestInput): Promise<LlmRequest> {
  const tenant = ctx.tenants.authenticate(req);
  const raw = parseJsonBody(await readBody(req, ctx.config.gateway.maxBodyBytes));
  return finaliseRequest(parse(raw), tenant, req.headers, ctx.config);
}

/** `Server-Timing`: the gateway's own time apart from waiting for the workflow, so its overhead is measurable in production too. */
function serverTiming(arrivedAt: number, callMs: number): Record<string, string> {
  const totalMs = performance.now() - arrivedAt;
  return { 'server-timing': `gateway;dur=${(totalMs - callMs).toFixed(2)}, call;dur=${callMs.toFixed(2)}` };
}

async function timedAnswer(ctx: GatewayContext, request: LlmRequest): Promise<{ result: LlmResult; callMs: number }> {
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
  await admitted(ctx, req, request, async () => {
    if (!request.stream) {
      const { result, callMs } = await timedAnswer(ctx, request);
      const body = toChatCompletion(result, Math.floor(Date.now() / 1000));
      sendJson(res, 200, body, { ...resultHeaders(result), ...serverTiming(arrivedAt, callMs) });
      return;
    }
    const started = performance.now();
    const callId = callIdFor(request);
    const outcome = await relayOpenAiStream({
      res,
      nats: ctx.nats,
      callId,
      route: request.route,
      mode: routeStreamConfig(ctx.config.gateway, request.route).mode,
      includeUsage,
      start: () => ctx.startCall(callId, request),
      awaitResult: (call) => awaitWithDeadline(ctx, call),
      cancelOnAbandon: !request.idempotencyKey,
      onFirstToken: () => ctx.metrics.ttft.observe((performance.now() - started) / 1000),
    });
    ctx.metrics.streamOutcomes.inc({ outcome });
  });
  return request.route;
}

export async function handleMessages(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse): Promise<string> {
  const arrivedAt = performance.now();
  const request = await prepare(ctx, req, parseAnthropicMessages);
  await admitted(ctx, req, request, async () => {
    // Anthropic streams are buffer-then-commit: the whole event sequence goes out once the call succeeded.
    const { result, callMs } = await timedAnswer(ctx, request);
    if (!request.stream) {
      sendJson(res, 200, toAnthropicMessage(result), { ...resultHeaders(result), ...serverTiming(arrivedAt, callMs) });
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', ...resultHeaders(result) });
    for (const { event, data } of anthropicStreamEvents(result)) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    res.end();
  });
  return request.route;
}
