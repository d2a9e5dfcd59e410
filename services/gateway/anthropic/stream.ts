/**
 * The Anthropic dialect of a relayed stream: `message_start`, a text block
 * whose `text_delta`s go out as they come, tool-use blocks, `message_delta`
 * with the stop reason and usage, `message_stop`. A broken stream ends with
 * an `error` event (the SDK raises it) and no `message_stop`.
 */
import type { LlmResult } from '../../../schemas/llm';
import { toAnthropicMessage } from './response';
import type { StreamDialect } from '../stream-relay';

const sse = (event: string, data: Record<string, unknown>) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

export function anthropicStreamDialect(options: { callId: string; route: string }): StreamDialect {
  let textBlockOpen = false;
  let nextIndex = 0;
  const openTextBlock = () => {
    if (textBlockOpen) return '';
    textBlockOpen = true;
    return sse('content_block_start', { type: 'content_block_start', index: nextIndex, content_block: { type: 'text', text: '' } });
  };
  const textDelta = (text: string) => sse('content_block_delta', { type: 'content_block_delta', index: nextIndex, delta: { type: 'text_delta', text } });
  return {
    opening(result?: LlmResult, answering?: string) {
      // The model the vendor named in its stream; the route name only stands in when none was given (as on the OpenAI side).
      const model = result?.model ?? answering ?? options.route;
      const message = {
        id: `msg_${options.callId}`,
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: result?.usage.inputTokens ?? 0, output_tokens: 0 },
      };
      return sse('message_start', { type: 'message_start', message });
    },
    delta: (text) => openTextBlock() + textDelta(text),
    closing(result, remainder) {
      let out = remainder ? openTextBlock() + textDelta(remainder) : '';
      if (textBlockOpen) out += sse('content_block_stop', { type: 'content_block_stop', index: nextIndex++ });
      for (const block of toAnthropicMessage(result).content) {
        if (block.type !== 'tool_use') continue;
        const index = nextIndex++;
        out += sse('content_block_start', { type: 'content_block_start', index, content_block: { ...block, input: {} } });
        out += sse('content_block_delta', {
          type: 'content_block_delta',
          index,
          delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) },
        });
        out += sse('content_block_stop', { type: 'content_block_stop', index });
      }
      const message = toAnthropicMessage(result);
      out += sse('message_delta', {
        type: 'message_delta',
        delta: { stop_reason: message.stop_reason, stop_sequence: null },
        usage: { input_tokens: result.usage.inputTokens, output_tokens: result.usage.outputTokens },
      });
      return out + sse('message_stop', { type: 'message_stop' });
    },
    broken: (message) => sse('error', { type: 'error', error: { type: 'api_error', message } }),
  };
}
