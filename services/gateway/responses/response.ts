/** LlmResult → the Responses API `response` object and its output items. `model` is the model that answered. */
import type { LlmResult } from '../../../schemas/llm';
import type { ResponsesBody } from './request';

/** What a response echoes of its request, fixed before the call starts. */
export interface ResponseFrame {
  id: string;
  /** Epoch seconds. */
  createdAt: number;
  route: string;
  body: ResponsesBody;
}

export const messageItemId = (responseId: string) => `msg_${responseId.slice('resp_'.length)}`;
const functionCallItemId = (responseId: string, index: number) => `fc_${responseId.slice('resp_'.length)}_${index}`;

export function messageItem(frame: ResponseFrame, text: string, status: 'in_progress' | 'completed') {
  return {
    type: 'message' as const,
    id: messageItemId(frame.id),
    status,
    role: 'assistant' as const,
    content: status === 'completed' ? [outputTextPart(text)] : [],
  };
}

export const outputTextPart = (text: string) => ({ type: 'output_text' as const, text, annotations: [], logprobs: [] });

export function functionCallItems(frame: ResponseFrame, result: LlmResult) {
  return (result.toolCalls ?? []).map((call, index) => ({
    type: 'function_call' as const,
    id: functionCallItemId(frame.id, index),
    call_id: call.id,
    name: call.name,
    arguments: call.arguments,
    status: 'completed' as const,
  }));
}

/** The message item is left out when the answer is tool calls only. */
function outputItems(frame: ResponseFrame, result: LlmResult) {
  const calls = functionCallItems(frame, result);
  return [...(result.text || !calls.length ? [messageItem(frame, result.text, 'completed')] : []), ...calls];
}

function usageOf(result: LlmResult) {
  const { inputTokens, outputTokens } = result.usage;
  return {
    input_tokens: inputTokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: outputTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: inputTokens + outputTokens,
  };
}

/** The response object; without a result it is the `in_progress` shell a stream opens with. */
export function responseObject(frame: ResponseFrame, result?: LlmResult) {
  const { body } = frame;
  const incomplete = result?.finishReason === 'length';
  return {
    id: frame.id,
    object: 'response' as const,
    created_at: frame.createdAt,
    status: !result ? 'in_progress' : incomplete ? 'incomplete' : 'completed',
    error: null,
    incomplete_details: incomplete ? { reason: 'max_output_tokens' } : null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    model: result?.model ?? frame.route,
    output: result ? outputItems(frame, result) : [],
    parallel_tool_calls: true,
    previous_response_id: body.previous_response_id ?? null,
    reasoning: null,
    store: body.store !== false,
    temperature: body.temperature ?? null,
    text: { format: body.text?.format ?? { type: 'text' } },
    tool_choice: body.tool_choice ?? 'auto',
    tools: body.tools ?? [],
    top_p: body.top_p ?? null,
    truncation: 'disabled',
    usage: result ? usageOf(result) : null,
    user: body.user ?? null,
    metadata: body.metadata ?? {},
  };
}
