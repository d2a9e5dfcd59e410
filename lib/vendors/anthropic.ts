/**
 * Anthropic messages through the official SDK. Structured output is realised
 * as forced tool use: one tool whose input schema is the output schema.
 */
import Anthropic from '@anthropic-ai/sdk';
import type { ContentBlockParam, MessageCreateParamsBase, MessageParam, Tool as AnthropicTool } from '@anthropic-ai/sdk/resources/messages/messages';
import type { FinishReason, Message, ToolCall } from '../../schemas/llm';
import { namingTimeouts, VendorFailure, VendorProtocolError } from './errors';
import { skippingFetch } from './sse-filter';
import { readRateLimit } from './rate-limit-headers';
import { StreamSession } from './stream-session';
import type { VendorCallRequest, VendorCallResult, VendorClient, VendorClientOptions } from './types';

/** Anthropic requires max_tokens; this is ours when the caller sets none. */
const DEFAULT_MAX_TOKENS = 1024;

function toAnthropicMessages(messages: Message[]): { system?: string; messages: MessageParam[] } {
  const system = messages
    .filter((m) => m.role === 'system')
    .map((m) => m.content)
    .join('\n\n');
  const converted: MessageParam[] = [];
  for (const message of messages) {
    if (message.role === 'system') continue;
    if (message.role === 'user') converted.push({ role: 'user', content: message.content });
    if (message.role === 'assistant') {
      const blocks: ContentBlockParam[] = [];
      if (message.content) blocks.push({ type: 'text', text: message.content });
      for (const call of message.toolCalls ?? []) blocks.push({ type: 'tool_use', id: call.id, name: call.name, input: safeJson(call.arguments) });
      converted.push({ role: 'assistant', content: blocks });
    }
    if (message.role === 'tool') {
      converted.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: message.toolCallId, content: message.content }] });
    }
  }
  return { ...(system ? { system } : {}), messages: converted };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}

function toFinishReason(reason: string | null | undefined): FinishReason {
  if (reason === 'max_tokens') return 'length';
  if (reason === 'tool_use') return 'tool_calls';
  if (reason === 'refusal') return 'content_filter';
  return 'stop';
}

function buildBody(request: VendorCallRequest): MessageCreateParamsBase {
  const { system, messages } = toAnthropicMessages(request.messages);
  const tools: AnthropicTool[] = (request.tools ?? []).map((t) => ({
    name: t.name,
    ...(t.description ? { description: t.description } : {}),
    input_schema: { type: 'object', ...t.parameters },
  }));
  let toolChoice: MessageCreateParamsBase['tool_choice'];
  if (request.output) {
    tools.push({
      name: request.output.name,
      description: 'Respond by calling this tool with the answer.',
      input_schema: { type: 'object', ...request.output.schema },
    });
    toolChoice = { type: 'tool', name: request.output.name };
  } else if (tools.length && request.toolChoice) {
    const c = request.toolChoice;
    toolChoice = c === 'auto' ? { type: 'auto' } : c === 'none' ? { type: 'none' } : c === 'required' ? { type: 'any' } : { type: 'tool', name: c.name };
  }
  return {
    model: request.model,
    max_tokens: request.params?.maxTokens ?? DEFAULT_MAX_TOKENS,
    messages,
    ...(system ? { system } : {}),
    ...(tools.length ? { tools } : {}),
    ...(toolChoice ? { tool_choice: toolChoice } : {}),
    ...(request.params?.temperature !== undefined ? { temperature: Math.min(1, request.params.temperature) } : {}),
    ...(request.params?.topP !== undefined ? { top_p: request.params.topP } : {}),
    ...(request.params?.stop ? { stop_sequences: request.params.stop } : {}),
  };
}

/** Splits Anthropic content into text, tool calls and (for forced tool use) the structured output. */
function collect(request: VendorCallRequest, blocks: Array<{ type: string; text?: string; id?: string; name?: string; input?: unknown }>) {
  let text = '';
  const toolCalls: ToolCall[] = [];
  let output: unknown;
  let sawOutput = false;
  for (const block of blocks) {
    if (block.type === 'text' && block.text) text += block.text;
    if (block.type === 'tool_use' && block.name) {
      if (request.output && block.name === request.output.name) {
        output = block.input;
        sawOutput = true;
      } else toolCalls.push({ id: block.id ?? '', name: block.name, arguments: JSON.stringify(block.input ?? {}) });
    }
  }
  if (request.output) {
    if (!sawOutput) {
      throw new VendorFailure({ outcome: 'invalid_output', errorType: 'json_parse', message: `no "${request.output.name}" tool call in the answer` });
    }
    text = JSON.stringify(output);
  }
  return { text, ...(toolCalls.length ? { toolCalls } : {}), ...(request.output ? { output } : {}) };
}

export function createAnthropicClient(options: VendorClientOptions): VendorClient {
  const sdk = new Anthropic({ apiKey: options.apiKey, authToken: null, baseURL: options.baseUrl, maxRetries: 0, fetch: skippingFetch });

  async function callOnce(request: VendorCallRequest): Promise<VendorCallResult> {
    const { data, response } = await sdk.messages
      .create({ ...buildBody(request), stream: false }, { timeout: request.timeoutMs, signal: request.signal })
      .withResponse();
    return {
      ...collect(request, data.content),
      finishReason: toFinishReason(data.stop_reason),
      usage: { inputTokens: data.usage.input_tokens, outputTokens: data.usage.output_tokens },
      model: data.model,
      status: response.status,
      rateLimit: readRateLimit('anthropic', response.headers, Date.now()),
    };
  }

  async function callStreaming(request: VendorCallRequest): Promise<VendorCallResult> {
    const session = new StreamSession('anthropic', request);
    const blocks: Array<{ type: string; text?: string; id?: string; name?: string; input?: unknown; json?: string }> = [];
    let stopReason: string | null | undefined;
    let inputTokens = 0;
    let outputTokens = 0;
    let model = request.model;
    await session.read(
      async () => {
        const { data: stream, response } = await sdk.messages
          .create({ ...buildBody(request), stream: true }, { timeout: request.timeoutMs, signal: session.signal })
          .withResponse();
        session.opened(response);
        for await (const event of stream) {
          session.chunk();
          if (event.type === 'message_start') {
            model = event.message.model || model;
            inputTokens = event.message.usage.input_tokens;
          } else if (event.type === 'content_block_start') {
            const block = event.content_block;
            blocks[event.index] = block.type === 'tool_use' ? { type: 'tool_use', id: block.id, name: block.name, json: '' } : { type: block.type, text: '' };
          } else if (event.type === 'content_block_delta') {
            const block = blocks[event.index];
            if (!block) throw new VendorProtocolError('malformed_response', `delta for unknown content block ${event.index}`);
            if (event.delta.type === 'text_delta') {
              session.token();
              block.text = (block.text ?? '') + event.delta.text;
              // Structured output is a tool call: its JSON is not relayed as text.
              if (!request.output) request.onTextDelta?.(event.delta.text, model);
            } else if (event.delta.type === 'input_json_delta') {
              session.token();
              block.json = (block.json ?? '') + event.delta.partial_json;
            }
          } else if (event.type === 'message_delta') {
            stopReason = event.delta.stop_reason ?? stopReason;
            outputTokens = event.usage.output_tokens ?? outputTokens;
            // message_delta carries the stop reason and the final usage: a missing message_stop gets a short grace, no more.
            if (stopReason) session.finishing();
          } else if (event.type === 'message_stop') {
            return;
          }
        }
        if (!stopReason) throw new VendorProtocolError('stream_interrupted', 'the stream ended before message_stop');
      },
      () => Boolean(stopReason),
    );
    for (const block of blocks) {
      if (block?.type === 'tool_use') block.input = block.json ? parseToolJson(block.json) : {};
    }
    const collected = collect(
      request,
      blocks.filter((b) => b !== undefined),
    );
    if (request.output) request.onTextDelta?.(collected.text, model);
    return {
      ...collected,
      finishReason: toFinishReason(stopReason),
      usage: { inputTokens, outputTokens },
      model,
      ...session.exchange(),
    };
  }

  return {
    protocol: 'anthropic',
    call: (request) => {
      // The config rejects embedding routes with Anthropic entries; this is the last line.
      if (request.embedding)
        return Promise.reject(new VendorFailure({ outcome: 'caller_fault', errorType: 'invalid_request', message: 'Anthropic has no embeddings API' }));
      return namingTimeouts(request, () => (request.stream ? callStreaming(request) : callOnce(request)));
    },
  };
}

function parseToolJson(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    throw new VendorFailure({ outcome: 'invalid_output', errorType: 'json_parse', message: `tool input is not valid JSON (${json.length} chars)` });
  }
}
