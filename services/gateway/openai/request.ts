/**
 * OpenAI chat-completions body → LlmRequest. `model` is a route name; fields
 * we cannot honour are rejected with a 400 naming the parameter, never
 * silently dropped.
 */
import { z } from 'zod';
import type { LlmRequestInput, Message } from '../../../schemas/llm';
import { badRequest, badRequestOfIssues } from '../http-errors';
import { chatOnlyParams, rejectUnsupportedParams } from './params';

const TextPart = z.object({ type: z.literal('text'), text: z.string() });
const Content = z
  .union([z.string(), z.array(TextPart)])
  .nullable()
  .optional();

const OpenAiToolCall = z.object({
  id: z.string().min(1),
  type: z.literal('function').default('function'),
  function: z.object({ name: z.string().min(1), arguments: z.string() }),
});

const OpenAiMessage = z.discriminatedUnion('role', [
  z.object({ role: z.enum(['system', 'developer']), content: Content }),
  z.object({ role: z.literal('user'), content: Content }),
  z.object({ role: z.literal('assistant'), content: Content, tool_calls: z.array(OpenAiToolCall).optional() }),
  z.object({ role: z.literal('tool'), content: Content, tool_call_id: z.string().min(1) }),
]);

const OpenAiTool = z.object({
  type: z.literal('function'),
  function: z.object({
    name: z.string().min(1),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).default({ type: 'object', properties: {} }),
  }),
});

export const OpenAiChatBody = z.object({
  model: z.string().min(1, 'model (a route name) is required'),
  messages: z.array(OpenAiMessage).min(1, 'at least one message'),
  tools: z.array(OpenAiTool).optional(),
  tool_choice: z
    .union([z.enum(['auto', 'none', 'required']), z.object({ type: z.literal('function'), function: z.object({ name: z.string().min(1) }) })])
    .optional(),
  response_format: z
    .discriminatedUnion('type', [
      z.object({ type: z.literal('text') }),
      z.object({ type: z.literal('json_object') }),
      z.object({
        type: z.literal('json_schema'),
        json_schema: z.object({ name: z.string().min(1), schema: z.record(z.string(), z.unknown()).optional(), strict: z.boolean().nullable().optional() }),
      }),
    ])
    .optional(),
  temperature: z.number().nullable().optional(),
  top_p: z.number().nullable().optional(),
  max_tokens: z.number().int().nullable().optional(),
  max_completion_tokens: z.number().int().nullable().optional(),
  stop: z
    .union([z.string(), z.array(z.string())])
    .nullable()
    .optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullable().optional(),
  logprobs: z.boolean().nullable().optional(),
  top_logprobs: z.number().int().min(0).max(20).nullable().optional(),
  user: z.string().optional(),
  /** OpenAI's string map; `user_input` = the end user's own words behind an enhanced prompt (recorded, never sent). */
  metadata: z.record(z.string(), z.string()).nullable().optional(),
});
export type OpenAiChatBody = z.infer<typeof OpenAiChatBody>;

function text(content: z.infer<typeof Content>): string {
  if (content === null || content === undefined) return '';
  return typeof content === 'string' ? content : content.map((p) => p.text).join('');
}

function toMessage(m: z.infer<typeof OpenAiMessage>): Message {
  switch (m.role) {
    case 'system':
    case 'developer':
      return { role: 'system', content: text(m.content) };
    case 'user':
      return { role: 'user', content: text(m.content) };
    case 'assistant':
      return {
        role: 'assistant',
        content: text(m.content),
        ...(m.tool_calls?.length ? { toolCalls: m.tool_calls.map((c) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments })) } : {}),
      };
    case 'tool':
      return { role: 'tool', content: text(m.content), toolCallId: m.tool_call_id };
  }
}

const honoured: ReadonlySet<string> = new Set(Object.keys(OpenAiChatBody.shape));

/** Raises a 400 naming the first bad or unsupported parameter (docs/gateway.md, "Parameters"). */
export function parseOpenAiChat(raw: unknown): { request: LlmRequestInput; includeUsage: boolean } {
  const parsed = OpenAiChatBody.safeParse(rejectUnsupportedParams(raw, honoured, chatOnlyParams, 'chat completions'));
  if (!parsed.success) throw badRequestOfIssues(parsed.error.issues, 'invalid parameter');
  const body = parsed.data;
  const format = body.response_format;
  const output =
    format?.type === 'json_schema'
      ? { name: format.json_schema.name, schema: format.json_schema.schema ?? { type: 'object' } }
      : format?.type === 'json_object'
        ? { name: 'json_object', schema: { type: 'object' } }
        : undefined;
  const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? undefined;
  const params = {
    ...(body.temperature !== null && body.temperature !== undefined ? { temperature: body.temperature } : {}),
    ...(body.top_p !== null && body.top_p !== undefined ? { topP: body.top_p } : {}),
    ...(maxTokens !== undefined ? { maxTokens } : {}),
    ...(body.stop ? { stop: typeof body.stop === 'string' ? [body.stop] : body.stop } : {}),
    ...(body.logprobs ? { logprobs: true, ...(body.top_logprobs !== null && body.top_logprobs !== undefined ? { topLogprobs: body.top_logprobs } : {}) } : {}),
  };
  if (body.logprobs && body.stream)
    throw badRequest('logprobs on a streamed answer are not supported yet: ask without stream (the answer carries them)', 'logprobs', 'unsupported_parameter');
  if (!body.logprobs && body.top_logprobs) throw badRequest('top_logprobs needs logprobs: true', 'top_logprobs', 'invalid_parameter');
  const choice = body.tool_choice;
  const request: LlmRequestInput = {
    route: body.model,
    messages: body.messages.map(toMessage),
    ...(body.tools?.length
      ? {
          tools: body.tools.map((t) => ({
            name: t.function.name,
            ...(t.function.description ? { description: t.function.description } : {}),
            parameters: t.function.parameters,
          })),
        }
      : {}),
    ...(choice ? { toolChoice: typeof choice === 'string' ? choice : { name: choice.function.name } } : {}),
    ...(output ? { output } : {}),
    ...(Object.keys(params).length ? { params } : {}),
    ...(body.user ? { user: body.user } : {}),
    ...(body.metadata?.user_input !== undefined ? { userInput: body.metadata.user_input } : {}),
    stream: body.stream === true,
  };
  return { request, includeUsage: body.stream_options?.include_usage === true };
}
