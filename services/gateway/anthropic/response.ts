/** LlmResult → Anthropic `message` (its stream: ./stream.ts). */
import type { LlmResult } from '../../../schemas/llm';

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
