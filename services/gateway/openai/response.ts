/** LlmResult → OpenAI `chat.completion` and `chat.completion.chunk` shapes. `model` is the model that answered. */
import type { LlmResult, TokenLogprob, ToolCall } from '../../../schemas/llm';

function completionId(callId: string): string {
  return `chatcmpl-${callId}`;
}

function usageOf(result: LlmResult) {
  const { inputTokens, outputTokens } = result.usage;
  return { prompt_tokens: inputTokens, completion_tokens: outputTokens, total_tokens: inputTokens + outputTokens };
}

function toolCallsOf(calls: ToolCall[] | undefined) {
  return calls?.map((c) => ({ id: c.id, type: 'function' as const, function: { name: c.name, arguments: c.arguments } }));
}

function wireLogprob(t: TokenLogprob) {
  return { token: t.token, logprob: t.logprob, bytes: t.bytes, top_logprobs: t.top.map((a) => ({ token: a.token, logprob: a.logprob, bytes: a.bytes })) };
}

export function toChatCompletion(result: LlmResult, created: number) {
  const toolCalls = toolCallsOf(result.toolCalls);
  return {
    id: completionId(result.callId),
    object: 'chat.completion',
    created,
    model: result.model,
    system_fingerprint: null,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: toolCalls?.length && !result.text ? null : result.text,
          refusal: null,
          ...(toolCalls?.length ? { tool_calls: toolCalls } : {}),
        },
        logprobs: result.logprobs ? { content: result.logprobs.map(wireLogprob), refusal: null } : null,
        finish_reason: result.finishReason,
      },
    ],
    usage: usageOf(result),
  };
}

/** Builds the chunks of one streamed completion; `model` is known only when the answer is. */
export function createChunkShaper(callId: string, created: number, route: string) {
  const id = completionId(callId);
  const chunk = (model: string, delta: Record<string, unknown>, finishReason: string | null = null) => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    system_fingerprint: null,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  });
  return {
    /** Deltas carry the model the vendor named in its stream; the route name only stands in when none was given. */
    role: (model?: string) => chunk(model ?? route, { role: 'assistant', content: '' }),
    text: (text: string, model?: string) => chunk(model ?? route, { content: text }),
    toolCalls: (result: LlmResult) => chunk(result.model, { tool_calls: (toolCallsOf(result.toolCalls) ?? []).map((c, index) => ({ index, ...c })) }),
    finish: (result: LlmResult) => chunk(result.model, {}, result.finishReason),
    /** The extra chunk of `stream_options.include_usage`: no choices, the usage. */
    usage: (result: LlmResult) => ({
      id,
      object: 'chat.completion.chunk',
      created,
      model: result.model,
      system_fingerprint: null,
      choices: [],
      usage: usageOf(result),
    }),
  };
}

export function resultHeaders(result: LlmResult): Record<string, string> {
  return { 'x-switchboard-call-id': result.callId, 'x-switchboard-provider': result.provider, 'x-switchboard-upstream': result.upstream };
}
