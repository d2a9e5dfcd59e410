/**
 * The Responses API dialect of a relayed stream: named SSE events
 * (`response.created`, `response.in_progress`, the message item and its
 * `response.output_text.delta`s, function-call items, `response.completed`),
 * each with its `sequence_number`. A stream broken after its first token
 * ends with an `error` event — which both official SDKs raise — and never
 * with `response.completed`.
 */
import type { LlmResult } from '../../../schemas/llm';
import type { StreamDialect } from '../stream-relay';
import { functionCallItems, messageItem, messageItemId, outputTextPart, responseObject, type ResponseFrame } from './response';

export function responsesStreamDialect(frame: ResponseFrame): StreamDialect {
  let sequence = 0;
  let messageOpen = false;
  const itemId = messageItemId(frame.id);
  const event = (type: string, payload: Record<string, unknown>) =>
    `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...payload })}\n\n`;
  const openMessage = () => {
    messageOpen = true;
    return (
      event('response.output_item.added', { output_index: 0, item: messageItem(frame, '', 'in_progress') }) +
      event('response.content_part.added', { item_id: itemId, output_index: 0, content_index: 0, part: outputTextPart('') })
    );
  };
  const delta = (text: string) => event('response.output_text.delta', { item_id: itemId, output_index: 0, content_index: 0, delta: text, logprobs: [] });

  return {
    opening(result?: LlmResult) {
      const shell = responseObject(frame);
      let out = event('response.created', { response: shell }) + event('response.in_progress', { response: shell });
      // Opened by the first token, or by a result that has text (a tool-calls-only answer has no message item).
      if (!result || result.text || !result.toolCalls?.length) out += openMessage();
      return out;
    },
    delta,
    closing(result, remainder) {
      let out = '';
      let index = 0;
      if (messageOpen) {
        if (remainder) out += delta(remainder);
        out +=
          event('response.output_text.done', { item_id: itemId, output_index: 0, content_index: 0, text: result.text, logprobs: [] }) +
          event('response.content_part.done', { item_id: itemId, output_index: 0, content_index: 0, part: outputTextPart(result.text) }) +
          event('response.output_item.done', { output_index: 0, item: messageItem(frame, result.text, 'completed') });
        index = 1;
      }
      for (const item of functionCallItems(frame, result)) {
        out +=
          event('response.output_item.added', { output_index: index, item: { ...item, arguments: '', status: 'in_progress' } }) +
          event('response.function_call_arguments.delta', { item_id: item.id, output_index: index, delta: item.arguments }) +
          event('response.function_call_arguments.done', { item_id: item.id, output_index: index, arguments: item.arguments }) +
          event('response.output_item.done', { output_index: index, item });
        index += 1;
      }
      const response = responseObject(frame, result);
      return out + event(response.status === 'incomplete' ? 'response.incomplete' : 'response.completed', { response });
    },
    // `error` carries its fields at the top (the Responses shape) and under `error` (what the Python SDK raises on).
    broken: (message) => {
      const error = { type: 'stream_error', code: 'SbStreamBroken', message, param: null };
      return event('error', { code: error.code, message, param: null, error });
    },
  };
}
