import { countingSkippedChunks, isSkippableEvent, skippingEvents } from '../../lib/vendors/sse-filter';

describe('malformed stream events without content (lib/vendors/sse-filter.ts)', () => {
  it.each([
    ['a truncated chunk with no text', 'data: {"id":"chatcmpl-1","object":"chat.completion.chu', true],
    ['a truncated Anthropic ping', 'event: ping\ndata: {"type":"pi', true],
    ['a truncated text delta (its text would be lost)', 'data: {"choices":[{"delta":{"content":"oo', false],
    ['a truncated Anthropic text delta', 'event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"type":"text_delta","text":"oo', false],
    ['a truncated tool-call delta', 'data: {"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"{\\"a', false],
    ['valid JSON', 'data: {"choices":[]}', false],
    ['the terminator', 'data: [DONE]', false],
    ['a comment line', ': keep-alive', false],
  ])('%s → skipped: %s', (_name, event, expected) => {
    expect(isSkippableEvent(event)).toBe(expected);
  });

  it('drops only the skippable events, whatever the chunking of the stream', async () => {
    const text = 'data: {"a":1}\n\ndata: {"id":"x","obj\n\ndata: {"b":2}\r\n\r\ndata: [DONE]\n\n';
    for (const size of [1, 3, 7, text.length]) {
      const skipped: string[] = [];
      const parts: string[] = [];
      for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
      const stream = new ReadableStream<string>({
        start(controller) {
          for (const p of parts) controller.enqueue(p);
          controller.close();
        },
      }).pipeThrough(skippingEvents((e) => skipped.push(e)));
      let out = '';
      for await (const chunk of stream) out += chunk;
      expect(out).toBe('data: {"a":1}\n\ndata: {"b":2}\n\ndata: [DONE]\n\n');
      expect(skipped).toEqual(['data: {"id":"x","obj']);
    }
  });

  it('counts for the call it runs in only', async () => {
    const a = countingSkippedChunks(async () => 'done');
    expect(await a.done).toBe('done');
    expect(a.skipped.count).toBe(0);
  });
});
