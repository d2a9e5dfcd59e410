/**
 * OpenAI chat completions: turns a request into a `VendorCall` and renders
 * its answer as a `chat.completion` body or as `chat.completion.chunk` events
 * ending in `data: [DONE]`, with tool calls, structured output and usage.
 */
import type { Answer } from '../answers';
import { OpenAiChatRequest, openAiLastUserText, openAiPromptText } from './wire';
import type { Organisation } from '../organisations';
import { sseData, type SseFrame } from '../sse';
import { countTokens } from '../tokenizer';
import { chooseTool, type ToolChoice } from '../tool-choice';
import { answerFor, EMPTY_TOOL_SCHEMA, isVendorError, readCall, type CallContext, type VendorCall } from '../vendor-call';
import { idFactory } from '../vendor-ids';
import type { VendorError } from '../vendor-errors';

const newCompletionId = idFactory('chatcmpl-', 29);
const newToolCallId = idFactory('call_', 24);
const SYSTEM_FINGERPRINT = 'fp_fakevendor';

const FINISH_REASONS = { end: 'stop', length: 'length', stop_sequence: 'stop', tool_call: 'tool_calls' } as const;

/** The request's tool choice in the shared terms. */
function toolChoiceOf(request: OpenAiChatRequest): ToolChoice {
  const choice = request.tool_choice ?? 'auto';
  return typeof choice === 'object' ? { name: choice.function.name } : choice;
}

export function prepareChatCompletion(body: unknown, organisation: Organisation, context: CallContext): VendorCall | VendorError {
  const read = readCall(OpenAiChatRequest, body, organisation);
  if (isVendorError(read)) return read;
  const { request, model } = read;
  const promptText = openAiPromptText(request.messages);
  const lastUserText = openAiLastUserText(request.messages);
  const tool = chooseTool(request.tools ?? [], toolChoiceOf(request), {
    nameOf: (t) => t.function.name,
    lastUserText,
    afterToolResult: request.messages.at(-1)?.role === 'tool',
    autoNeedsDirective: false,
    unknownTool: (name) => ({
      kind: 'invalid_body',
      message: `Invalid value for 'tool_choice': no function named '${name}' was specified in the 'tools' parameter.`,
      param: 'tool_choice',
    }),
  });
  if (tool !== undefined && 'kind' in tool) return tool;
  const format = request.response_format;
  const json = format?.type === 'json_schema' ? { schema: format.json_schema.schema } : format?.type === 'json_object' ? { schema: undefined } : undefined;
  const stream = request.stream === true;
  const includeUsage = stream && request.stream_options?.include_usage === true;
  const promptTokens = countTokens(promptText);

  return {
    model,
    stream,
    structured: json !== undefined || tool?.forced === true,
    promptText,
    promptTokens,
    produce(invalidJson) {
      const answer = answerFor(context, {
        model: request.model,
        promptText,
        lastUserText,
        cap: request.max_completion_tokens ?? request.max_tokens ?? undefined,
        stop: typeof request.stop === 'string' ? [request.stop] : (request.stop ?? []),
        json,
        toolCall: tool === undefined ? undefined : { name: tool.tool.function.name, schema: tool.tool.function.parameters ?? EMPTY_TOOL_SCHEMA },
        spoiling: invalidJson ? 'truncate' : 'none',
      });
      const logprobs = request.logprobs === true ? { top: request.top_logprobs ?? 0 } : undefined;
      const rendering = {
        answer,
        id: newCompletionId(),
        created: Math.floor(context.nowMs / 1000),
        model: request.model,
        promptTokens,
        ...(logprobs ? { logprobs } : {}),
      };
      return {
        completionTokens: answer.tokens.length,
        body: () => renderCompletion(rendering),
        frames: () => renderChunks(rendering, includeUsage),
      };
    },
  };
}

interface Rendering {
  answer: Answer;
  id: string;
  created: number;
  model: string;
  promptTokens: number;
  /** `logprobs: true` asked: log probabilities per token, with `top` alternatives. */
  logprobs?: { top: number };
}

/** A token's log probability, a function of the token alone (so runs repeat): in (−1, 0). */
function logprobOf(token: string): number {
  let hash = 0;
  for (const char of token) hash = (hash * 31 + char.codePointAt(0)!) >>> 0;
  return -((hash % 997) + 1) / 1000;
}

const bytesOf = (token: string) => [...new TextEncoder().encode(token)];

/** OpenAI's `choices[0].logprobs` for a text answer: the token itself first among its alternatives. */
function logprobsOf(tokens: string[], top: number): object {
  return {
    content: tokens.map((token) => {
      const logprob = logprobOf(token);
      const alternatives = Array.from({ length: Math.max(0, top - 1) }, (_, i) => ({
        token: `${token}~${i + 1}`,
        logprob: logprob - (i + 1),
        bytes: bytesOf(`${token}~${i + 1}`),
      }));
      return { token, logprob, bytes: bytesOf(token), top_logprobs: top > 0 ? [{ token, logprob, bytes: bytesOf(token) }, ...alternatives] : [] };
    }),
    refusal: null,
  };
}

function usageOf(r: Rendering): object {
  const completion = r.answer.tokens.length;
  return {
    prompt_tokens: r.promptTokens,
    completion_tokens: completion,
    total_tokens: r.promptTokens + completion,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

function renderCompletion(r: Rendering): string {
  const { answer } = r;
  const message =
    answer.toolCall === null
      ? { role: 'assistant', content: answer.text, refusal: null, annotations: [] }
      : {
          role: 'assistant',
          content: null,
          refusal: null,
          annotations: [],
          tool_calls: [{ id: newToolCallId(), type: 'function', function: { name: answer.toolCall.name, arguments: answer.text } }],
        };
  return JSON.stringify({
    id: r.id,
    object: 'chat.completion',
    created: r.created,
    model: r.model,
    choices: [
      {
        index: 0,
        message,
        logprobs: r.logprobs && answer.toolCall === null ? logprobsOf(answer.tokens, r.logprobs.top) : null,
        finish_reason: FINISH_REASONS[answer.finish],
      },
    ],
    usage: usageOf(r),
    service_tier: 'default',
    system_fingerprint: SYSTEM_FINGERPRINT,
  });
}

function renderChunks(r: Rendering, includeUsage: boolean): SseFrame[] {
  const { answer } = r;
  const frame = (fields: { choices: object[]; usage?: object | null }): string =>
    sseData(
      JSON.stringify({
        id: r.id,
        object: 'chat.completion.chunk',
        created: r.created,
        model: r.model,
        service_tier: 'default',
        system_fingerprint: SYSTEM_FINGERPRINT,
        ...fields,
      }),
    );
  const chunk = (delta: object, finishReason: string | null): string =>
    frame({ choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }], ...(includeUsage ? { usage: null } : {}) });
  const toolCall = answer.toolCall;
  const frames: SseFrame[] = [
    {
      phase: 'lead',
      text:
        toolCall === null
          ? chunk({ role: 'assistant', content: '', refusal: null }, null)
          : chunk(
              {
                role: 'assistant',
                content: null,
                tool_calls: [{ index: 0, id: newToolCallId(), type: 'function', function: { name: toolCall.name, arguments: '' } }],
              },
              null,
            ),
    },
  ];
  for (const token of answer.tokens) {
    frames.push({
      phase: 'token',
      text: toolCall === null ? chunk({ content: token }, null) : chunk({ tool_calls: [{ index: 0, function: { arguments: token } }] }, null),
    });
  }
  frames.push({ phase: 'trailer', text: chunk({}, FINISH_REASONS[answer.finish]) });
  if (includeUsage) frames.push({ phase: 'trailer', text: frame({ choices: [], usage: usageOf(r) }) });
  frames.push({ phase: 'terminator', text: 'data: [DONE]\n\n' });
  return frames;
}

/** A chunk line cut off mid-JSON, as a broken proxy or a vendor bug leaves it. */
export const OPENAI_MALFORMED_FRAME = 'data: {"id":"chatcmpl-broken","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"oo\n\n';
