/** LlmResult → Anthropic `message`, and the SSE events of a (buffered) Anthropic stream. */
import type { LlmResult } from '../../schemas/llm';

const stopReasons = { stop: 'end_turn', length: 'max_tokens', tool_calls: 'tool_use', content_filter: 'refusal' } as const;

function contentOf(result: LlmResult) {
  const blocks: Array<Record<string, unknown>> = [];
  if (result.text) blocks.push({ type: 'text', text: result.text });
  for (const call of result.toolCalls ?? []) blocks.push({ type: 'tool_use', id: call.id, name: call.name, input: safeJson(call.arguments) });
  return blocks;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}

export function toAnthropicMessage(result: LlmResult) {
  return {
    id: `msg_${result.callId}`,
    type: 'message',
    role: 'assistant',
    model: result.model,
    content: contentOf(result),
    stop_reason: stopReasons[result.finishReason],
    stop_sequence: null,
    usage: { input_tokens: result.usage.inputTokens, output_tokens: result.usage.outputTokens },
  };
}

/** The event sequence of a complete Anthropic stream, sent once the call succeeded (buffer-then-commit). */
export function anthropicStreamEvents(result: LlmResult): Array<{ event: string; data: Record<string, unknown> }> {
  const message = toAnthropicMessage(result);
  const events: Array<{ event: string; data: Record<string, unknown> }> = [
    { event: 'message_start', data: { type: 'message_start', message: { ...message, content: [], stop_reason: null, usage: { ...message.usage, output_tokens: 0 } } } },
  ];
  message.content.forEach((block, index) => {
    if (block.type === 'text') {
      events.push({ event: 'content_block_start', data: { type: 'content_block_start', index, content_block: { type: 'text', text: '' } } });
      events.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index, delta: { type: 'text_delta', text: block.text } } });
    } else {
      events.push({ event: 'content_block_start', data: { type: 'content_block_start', index, content_block: { ...block, input: {} } } });
      events.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) } } });
    }
    events.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index } });
  });
  events.push({ event: 'message_delta', data: { type: 'message_delta', delta: { stop_reason: message.stop_reason, stop_sequence: null }, usage: { output_tokens: message.usage.output_tokens } } });
  events.push({ event: 'message_stop', data: { type: 'message_stop' } });
  return events;
}
