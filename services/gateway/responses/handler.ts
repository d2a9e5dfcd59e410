/**
 * `POST /v1/responses`: one llmCall per response, through the same admission,
 * deadline and never-lies stream relay as chat completions. The conversation
 * of `previous_response_id` comes from the tenant's stored record (404 when
 * unknown or another tenant's); unless `store: false`, the new response is
 * recorded before its answer goes out, so the next turn can continue from it
 * on any gateway pod.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LlmRequest, LlmResult, Message } from '../../../schemas/llm';
import { admitted, prepare, serverTiming, streamAnswer, timedAnswer } from '../chat-completions';
import { callIdFor } from '../calls';
import type { GatewayContext } from '../context';
import { GatewayError, isGatewayError } from '../http-errors';
import { sendJson } from '../http-io';
import { resultHeaders } from '../openai/response';
import { parseResponsesBody, type ParsedResponsesRequest } from './request';
import { responseObject, type ResponseFrame } from './response';
import { responseIdOf } from './store';
import { responsesStreamDialect } from './stream';

function notStored(callId: string, error: unknown): GatewayError {
  return new GatewayError(
    503,
    'service_unavailable',
    'the response could not be stored for previous_response_id; send the request again with the same Idempotency-Key to get it without a second vendor call',
    {
      code: 'response_not_stored',
      headers: { 'x-switchboard-call-id': callId },
      detail: { switchboard: { call_id: callId, cause: error instanceof Error ? error.name : 'unknown' } },
    },
  );
}

export async function handleResponses(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse): Promise<string> {
  const arrivedAt = performance.now();
  let parsed: ParsedResponsesRequest | undefined;
  const first = await prepare(ctx, req, (raw) => {
    parsed = parseResponsesBody(raw);
    return { ...parsed.request, messages: parsed.input };
  });
  const { body, input, instructions } = parsed!;
  const previous = body.previous_response_id ? await ctx.responses.get(first.tenant, body.previous_response_id) : undefined;
  const conversation: Message[] = [...(previous?.conversation ?? []), ...input];
  const request: LlmRequest = { ...first, messages: [...(instructions ? [{ role: 'system' as const, content: instructions }] : []), ...conversation] };
  const createdAt = Math.floor(Date.now() / 1000);
  const frameOf = (callId: string): ResponseFrame => ({ id: responseIdOf(callId), createdAt, route: request.route, body });

  const record = async (result: LlmResult) => {
    if (body.store === false) return;
    const answer: Message = { role: 'assistant', content: result.text, ...(result.toolCalls?.length ? { toolCalls: result.toolCalls } : {}) };
    try {
      await ctx.responses.put({
        id: responseIdOf(result.callId),
        tenant: request.tenant,
        createdAt: Date.now(),
        route: request.route,
        model: result.model,
        callId: result.callId,
        conversation: [...conversation, answer],
      });
    } catch (error) {
      ctx.log.error({ err: error, callId: result.callId }, 'could not store a response for previous_response_id');
      throw isGatewayError(error) ? error : notStored(result.callId, error);
    }
  };

  await admitted(ctx, req, request, async (finish, progressed) => {
    const settle = async (result: LlmResult) => {
      await record(result);
      await finish(result);
    };
    if (!request.stream) {
      const { result, callMs } = await timedAnswer(ctx, request);
      await settle(result);
      sendJson(res, 200, responseObject(frameOf(result.callId), result), { ...resultHeaders(result), ...serverTiming(arrivedAt, callMs) });
      return;
    }
    const callId = callIdFor(request);
    await streamAnswer(ctx, request, callId, res, responsesStreamDialect(frameOf(callId)), settle, progressed);
  });
  return request.route;
}
