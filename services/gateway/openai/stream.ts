/** The OpenAI dialect of a relayed stream: `chat.completion.chunk` data events ending in `data: [DONE]`. */
import type { StreamDialect } from '../stream-relay';
import { createChunkShaper } from './response';

const data = (value: unknown) => `data: ${JSON.stringify(value)}\n\n`;

export function openAiStreamDialect(options: { callId: string; route: string; includeUsage: boolean }): StreamDialect {
  const shaper = createChunkShaper(options.callId, Math.floor(Date.now() / 1000), options.route);
  return {
    opening: (result, model) => data(shaper.role(result?.model ?? model)),
    delta: (text, model) => data(shaper.text(text, model)),
    closing(result, remainder) {
      let out = remainder ? data(shaper.text(remainder)) : '';
      if (result.toolCalls?.length) out += data(shaper.toolCalls(result));
      out += data(shaper.finish(result));
      if (options.includeUsage) out += data(shaper.usage(result));
      return `${out}data: [DONE]\n\n`;
    },
    // OpenAI clients raise an APIError on a data event carrying `error`; no [DONE] follows.
    broken: (message) => data({ error: { message, type: 'stream_error', param: null, code: 'SbStreamBroken' } }),
  };
}
