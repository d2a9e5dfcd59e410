/**
 * OpenAI Responses API body → the parts of an LlmRequest. `model` is a route
 * name; `input` (a string or a list of message, function_call and
 * function_call_output items) becomes messages, `instructions` a system
 * message of this turn only (as OpenAI does, it is not carried over by
 * `previous_response_id`). Parameters we cannot honour are rejected naming
 * them (services/gateway/openai/params.ts), never dropped.
 */
import { z } from 'zod';
import type { LlmRequestInput, Message, ToolCall } from '../../../schemas/llm';
import { badRequestOfIssues } from '../http-errors';
import { responsesOnlyParams, rejectUnsupportedParams } from '../openai/params';

const TextPart = z.object({ type: z.enum(['input_text', 'output_text', 'text']), text: z.string() });
const Content = z.union([z.string(), z.array(TextPart)]);

const MessageItem = z.object({
  type: z.literal('message').optional(),
  role: z.enum(['user', 'assistant', 'system', 'developer']),
  content: Content,
  id: z.string().optional(),
  status: z.string().optional(),
});
const FunctionCallItem = z.object({
  type: z.literal('function_call'),
  call_id: z.string().min(1),
  name: z.string().min(1),
  arguments: z.string(),
  id: z.string().optional(),
  status: z.string().optional(),
});
const FunctionCallOutputItem = z.object({
  type: z.literal('function_call_output'),
  call_id: z.string().min(1),
  output: z.union([z.string(), z.array(TextPart)]),
  id: z.string().optional(),
  status: z.string().optional(),
});
const InputItem = z.union([FunctionCallItem, FunctionCallOutputItem, MessageItem]);

const FunctionTool = z.object({
  type: z.literal('function'),
  name: z.string().min(1),
  description: z.string().nullable().optional(),
  parameters: z.record(z.string(), z.unknown()).nullable().optional(),
  strict: z.boolean().nullable().optional(),
});

const TextFormat = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    name: z.string().min(1),
    schema: z.record(z.string(), z.unknown()),
    description: z.string().optional(),
    strict: z.boolean().nullable().optional(),
  }),
]);

export const ResponsesBody = z.object({
  model: z.string().min(1, 'model (a route name) is required'),
  input: z.union([z.string().min(1), z.array(InputItem).min(1)]),
  instructions: z.string().nullable().optional(),
  previous_response_id: z.string().min(1).nullable().optional(),
  tools: z.array(FunctionTool).optional(),
  tool_choice: z.union([z.enum(['auto', 'none', 'required']), z.object({ type: z.literal('function'), name: z.string().min(1) })]).optional(),
  text: z.object({ format: TextFormat.optional() }).optional(),
  temperature: z.number().nullable().optional(),
  top_p: z.number().nullable().optional(),
  max_output_tokens: z.number().int().positive().nullable().optional(),
  stream: z.boolean().nullable().optional(),
  /** Default true: the response is kept so a later `previous_response_id` can continue from it. */
  store: z.boolean().nullable().optional(),
  user: z.string().optional(),
  metadata: z.record(z.string(), z.string()).nullable().optional(),
});
export type ResponsesBody = z.infer<typeof ResponsesBody>;

const honoured: ReadonlySet<string> = new Set(Object.keys(ResponsesBody.shape));

function text(content: z.infer<typeof Content>): string {
  return typeof content === 'string' ? content : content.map((part) => part.text).join('');
}

/** Input items → messages; consecutive function_call items become one assistant turn with tool calls. */
function messagesOfInput(input: ResponsesBody['input']): Message[] {
  if (typeof input === 'string') return [{ role: 'user', content: input }];
  const messages: Message[] = [];
  for (const item of input) {
    if (item.type === 'function_call') {
      const call: ToolCall = { id: item.call_id, name: item.name, arguments: item.arguments };
      const last = messages.at(-1);
      if (last?.role === 'assistant' && last.toolCalls) last.toolCalls.push(call);
      else messages.push({ role: 'assistant', content: '', toolCalls: [call] });
    } else if (item.type === 'function_call_output') {
      messages.push({ role: 'tool', content: typeof item.output === 'string' ? item.output : text(item.output), toolCallId: item.call_id });
    } else {
      const role = item.role === 'developer' ? 'system' : item.role;
      messages.push({ role, content: text(item.content) });
    }
  }
  return messages;
}

export interface ParsedResponsesRequest {
  body: ResponsesBody;
  /** This turn's input as messages; the earlier conversation goes in front, `instructions` (this turn only) first of all. */
  input: Message[];
  instructions?: string;
  /** The request without messages; the handler adds the conversation. */
  request: Omit<LlmRequestInput, 'messages'>;
}

/** Raises a 400 naming the first bad or unsupported parameter. */
export function parseResponsesBody(raw: unknown): ParsedResponsesRequest {
  const parsed = ResponsesBody.safeParse(rejectUnsupportedParams(raw, honoured, responsesOnlyParams, 'responses'));
  if (!parsed.success) throw badRequestOfIssues(parsed.error.issues, 'invalid parameter');
  const body = parsed.data;
  const format = body.text?.format;
  const output =
    format?.type === 'json_schema'
      ? { name: format.name, schema: format.schema }
      : format?.type === 'json_object'
        ? { name: 'json_object', schema: { type: 'object' } }
        : undefined;
  const params = {
    ...(body.temperature !== null && body.temperature !== undefined ? { temperature: body.temperature } : {}),
    ...(body.top_p !== null && body.top_p !== undefined ? { topP: body.top_p } : {}),
    ...(body.max_output_tokens ? { maxTokens: body.max_output_tokens } : {}),
  };
  const choice = body.tool_choice;
  return {
    body,
    input: messagesOfInput(body.input),
    ...(body.instructions ? { instructions: body.instructions } : {}),
    request: {
      route: body.model,
      ...(body.tools?.length
        ? {
            tools: body.tools.map((t) => ({
              name: t.name,
              ...(t.description ? { description: t.description } : {}),
              parameters: t.parameters ?? { type: 'object', properties: {} },
            })),
          }
        : {}),
      ...(choice ? { toolChoice: typeof choice === 'string' ? choice : { name: choice.name } } : {}),
      ...(output ? { output } : {}),
      ...(Object.keys(params).length ? { params } : {}),
      ...(body.user ? { user: body.user } : {}),
      ...(body.metadata?.user_input !== undefined ? { userInput: body.metadata.user_input } : {}),
      stream: body.stream === true,
    },
  };
}
