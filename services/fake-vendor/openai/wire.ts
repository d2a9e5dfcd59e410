/**
 * What OpenAI clients send: chat completions and embeddings request bodies,
 * parsed loosely (unknown fields pass, as new SDK options appear all the time)
 * but strictly where the fake vendor reads them.
 */
import { z } from 'zod';

const ContentPart = z.looseObject({ type: z.string(), text: z.string().optional() });
const Content = z.union([z.string(), z.array(ContentPart)]).nullish();

const ToolCall = z.looseObject({
  id: z.string().optional(),
  type: z.string().optional(),
  function: z.looseObject({ name: z.string(), arguments: z.string().optional() }).optional(),
});

export const OpenAiMessage = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
  content: Content,
  name: z.string().optional(),
  tool_calls: z.array(ToolCall).nullish(),
  tool_call_id: z.string().optional(),
});
export type OpenAiMessage = z.infer<typeof OpenAiMessage>;

export const OpenAiTool = z.looseObject({
  type: z.literal('function'),
  function: z.looseObject({
    name: z.string().min(1),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullish(),
  }),
});
export type OpenAiTool = z.infer<typeof OpenAiTool>;

export const OpenAiToolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.looseObject({ type: z.literal('function'), function: z.looseObject({ name: z.string() }) }),
]);

export const OpenAiResponseFormat = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('text') }),
  z.looseObject({ type: z.literal('json_object') }),
  z.looseObject({
    type: z.literal('json_schema'),
    json_schema: z.looseObject({ name: z.string(), schema: z.record(z.string(), z.unknown()).optional(), strict: z.boolean().nullish() }),
  }),
]);

const positiveInt = z.number().int().positive();

export const OpenAiChatRequest = z.looseObject({
  model: z.string().min(1),
  messages: z.array(OpenAiMessage).min(1),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
  max_tokens: positiveInt.nullish(),
  max_completion_tokens: positiveInt.nullish(),
  n: z.number().int().min(1).max(1, 'the fake vendor answers with one choice; n must be 1').nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  tools: z.array(OpenAiTool).optional(),
  tool_choice: OpenAiToolChoice.optional(),
  response_format: OpenAiResponseFormat.optional(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
});
export type OpenAiChatRequest = z.infer<typeof OpenAiChatRequest>;

export const OpenAiEmbeddingsRequest = z.looseObject({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(z.string()).min(1), z.array(z.number().int()).min(1), z.array(z.array(z.number().int())).min(1)]),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: positiveInt.max(8192).optional(),
});
export type OpenAiEmbeddingsRequest = z.infer<typeof OpenAiEmbeddingsRequest>;

function textOf(content: OpenAiMessage['content']): string {
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  return content.map((part) => (part.type === 'text' ? (part.text ?? '') : `[${part.type}]`)).join('\n');
}

/** The prompt as the request log stores and hashes it: one `role: text` line per message. */
export function openAiPromptText(messages: readonly OpenAiMessage[]): string {
  return messages
    .map((m) => {
      const calls = (m.tool_calls ?? []).map((c) => `[tool_call ${c.function?.name ?? ''} ${c.function?.arguments ?? ''}]`).join(' ');
      return `${m.role}: ${textOf(m.content)}${calls === '' ? '' : ` ${calls}`}`;
    })
    .join('\n');
}

export function openAiLastUserText(messages: readonly OpenAiMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (message?.role === 'user') return textOf(message.content);
  }
  return '';
}

/** Embedding inputs as text, one entry per input (token arrays rendered as their ids). */
export function embeddingInputs(input: OpenAiEmbeddingsRequest['input']): string[] {
  if (typeof input === 'string') return [input];
  if (input.every((item): item is number => typeof item === 'number')) return [input.join(' ')];
  return input.map((item) => (typeof item === 'string' ? item : Array.isArray(item) ? item.join(' ') : String(item)));
}
