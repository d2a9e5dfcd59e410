/**
 * Anthropic messages: turns a request into a `VendorCall` and renders its
 * answer as a `message` body or as the `message_start` … `message_stop` event
 * sequence, with tool use (forced tool use is how Switchboard asks Anthropic
 * for structured output), native `output_config.format` JSON, and usage.
 */
import { parseDirectives, type Answer } from '../answers';
import { anthropicContentText, anthropicLastUserText, anthropicPromptText, AnthropicMessagesRequest, endsWithToolResult } from './wire';
import type { Organisation } from '../organisations';
import { sseEvent, type SseFrame } from '../sse';
import { countTokens, tokenize } from '../tokenizer';
import { chooseTool, type ToolChoice } from '../tool-choice';
import { answerFor, EMPTY_TOOL_SCHEMA, isVendorError, readCall, type CallContext, type VendorCall } from '../vendor-call';
import type { VendorError } from '../vendor-errors';
import { idFactory } from '../vendor-ids';

const newMessageId = idFactory('msg_', 24);
const newToolUseId = idFactory('toolu_', 24);

const STOP_REASONS = { end: 'end_turn', length: 'max_tokens', stop_sequence: 'stop_sequence', tool_call: 'tool_use' } as const;

/** The request's tool choice in the shared terms (`any` is OpenAI's `required`). */
function toolChoiceOf(request: AnthropicMessagesRequest): ToolChoice {
  const choice = request.tool_choice;
  if (choice?.type === 'tool') return { name: choice.name ?? '' };
  return choice?.type === 'any' ? 'required' : (choice?.type ?? 'auto');
}

export function prepareMessages(body: unknown, organisation: Organisation, context: CallContext): VendorCall | VendorError {
  const read = readCall(AnthropicMessagesRequest, body, organisation);
  if (isVendorError(read)) return read;
  const { request: asked, model } = read;
  // A trailing assistant turn is a prefill: the answer continues it. The answer is the one the request without it gets.
  const last = asked.messages.at(-1);
  const prefill = last?.role === 'assistant' ? anthropicContentText(last.content) : undefined;
  const request = prefill === undefined ? asked : { ...asked, messages: asked.messages.slice(0, -1) };
  const lastUserText = anthropicLastUserText(request.messages);
  if (prefill !== undefined && parseDirectives(lastUserText).noPrefill) {
    return {
      kind: 'invalid_body',
      message: 'This model does not support assistant message prefill. The conversation must end with a user message.',
      param: 'messages',
    };
  }
  // The log shows what was sent (prefill included); the answer is seeded by the request without it.
  const promptText = anthropicPromptText(asked);
  const answerPrompt = anthropicPromptText(request);
  const tool = chooseTool(request.tools ?? [], toolChoiceOf(request), {
    nameOf: (t) => t.name,
    lastUserText,
    afterToolResult: endsWithToolResult(request.messages),
    autoNeedsDirective: true,
    unknownTool: (name) => ({ kind: 'invalid_body', message: `tool_choice.name: tool '${name}' not found in tools` }),
  });
  if (tool !== undefined && 'kind' in tool) return tool;
  const promptTokens = countTokens(promptText);
  const format = request.output_config?.format;
  const json = format === null || format === undefined ? undefined : { schema: format.schema };

  return {
    model,
    stream: request.stream === true,
    structured: json !== undefined || tool?.forced === true,
    promptText,
    promptTokens,
    produce(invalidJson) {
      const answer = answerFor(context, {
        model: request.model,
        promptText: answerPrompt,
        lastUserText,
        cap: request.max_tokens,
        stop: request.stop_sequences ?? [],
        json,
        toolCall: tool === undefined ? undefined : { name: tool.tool.name, schema: tool.tool.input_schema ?? EMPTY_TOOL_SCHEMA },
        // A tool's `input` always arrives parsed, so a spoiled one is valid JSON that breaks the schema;
        // structured text is spoiled by truncation.
        spoiling: !invalidJson ? 'none' : tool !== undefined ? 'violate' : 'truncate',
      });
      const rendering: Rendering = {
        answer: prefill === undefined ? answer : continuationOf(answer, prefill),
        id: newMessageId(),
        model: request.model,
        promptTokens,
        toolUseId: newToolUseId(),
      };
      return { completionTokens: answer.tokens.length, body: () => renderMessage(rendering), frames: () => renderEvents(rendering) };
    },
  };
}

/** What follows a prefill: the rest of the answer when it begins with the prefill, else the answer itself, after a space. */
function continuationOf(answer: Answer, prefill: string): Answer {
  if (answer.toolCall !== null) return answer;
  const rest = answer.text.startsWith(prefill) ? answer.text.slice(prefill.length) : ` ${answer.text}`;
  return { ...answer, text: rest, tokens: tokenize(rest) };
}

interface Rendering {
  answer: Answer;
  id: string;
  model: string;
  promptTokens: number;
  toolUseId: string;
}

function usageOf(r: Rendering, outputTokens: number): object {
  return { input_tokens: r.promptTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: outputTokens, service_tier: 'standard' };
}

function contentBlock(r: Rendering, complete: boolean): object {
  const { toolCall } = r.answer;
  if (toolCall === null) return { type: 'text', text: complete ? r.answer.text : '' };
  return { type: 'tool_use', id: r.toolUseId, name: toolCall.name, input: complete ? toolCall.input : {} };
}

function renderMessage(r: Rendering): string {
  return JSON.stringify({
    id: r.id,
    type: 'message',
    role: 'assistant',
    model: r.model,
    content: [contentBlock(r, true)],
    stop_reason: STOP_REASONS[r.answer.finish],
    stop_sequence: r.answer.stopSequence,
    usage: usageOf(r, r.answer.tokens.length),
  });
}

function renderEvents(r: Rendering): SseFrame[] {
  const { answer } = r;
  const start = { id: r.id, type: 'message', role: 'assistant', model: r.model, content: [], stop_reason: null, stop_sequence: null, usage: usageOf(r, 1) };
  const frames: SseFrame[] = [
    { phase: 'preamble', text: sseEvent('message_start', JSON.stringify({ type: 'message_start', message: start })) },
    {
      phase: 'preamble',
      text: sseEvent('content_block_start', JSON.stringify({ type: 'content_block_start', index: 0, content_block: contentBlock(r, false) })),
    },
    { phase: 'preamble', text: sseEvent('ping', '{"type": "ping"}') },
  ];
  for (const token of answer.tokens) {
    const delta = answer.toolCall === null ? { type: 'text_delta', text: token } : { type: 'input_json_delta', partial_json: token };
    frames.push({ phase: 'token', text: sseEvent('content_block_delta', JSON.stringify({ type: 'content_block_delta', index: 0, delta })) });
  }
  frames.push({ phase: 'trailer', text: sseEvent('content_block_stop', JSON.stringify({ type: 'content_block_stop', index: 0 })) });
  const delta = { stop_reason: STOP_REASONS[answer.finish], stop_sequence: answer.stopSequence };
  frames.push({
    phase: 'trailer',
    text: sseEvent('message_delta', JSON.stringify({ type: 'message_delta', delta, usage: { output_tokens: answer.tokens.length } })),
  });
  frames.push({ phase: 'terminator', text: sseEvent('message_stop', JSON.stringify({ type: 'message_stop' })) });
  return frames;
}

/** A delta event whose JSON is cut off mid-way. */
export const ANTHROPIC_MALFORMED_FRAME =
  'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"oo\n\n';
