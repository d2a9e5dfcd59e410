/** Anthropic messages body → LlmRequest, on the same machinery as the OpenAI dialect. */
import { z } from 'zod';
import type { LlmRequestInput, Message } from '../../../schemas/llm';
import { badRequest } from '../http-errors';

const Block = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text'), text: z.string() }),
  z.object({ type: z.literal('tool_use'), id: z.string().min(1), name: z.string().min(1), input: z.unknown() }),
  z.object({
    type: z.literal('tool_result'),
    tool_use_id: z.string().min(1),
    content: z.union([z.string(), z.array(z.object({ type: z.literal('text'), text: z.string() }))]).optional(),
  }),
]);

export const AnthropicMessagesBody = z.object({
  model: z.string().min(1, 'model (a route name) is required'),
  max_tokens: z.number().int().positive(),
  system: z.union([z.string(), z.array(z.object({ type: z.literal('text'), text: z.string() }))]).optional(),
  messages: z.array(z.object({ role: z.enum(['user', 'assistant']), content: z.union([z.string(), z.array(Block)]) })).min(1, 'at least one message'),
  tools: z.array(z.object({ name: z.string().min(1), description: z.string().optional(), input_schema: z.record(z.string(), z.unknown()) })).optional(),
  tool_choice: z
    .discriminatedUnion('type', [
      z.object({ type: z.literal('auto') }),
      z.object({ type: z.literal('any') }),
      z.object({ type: z.literal('none') }),
      z.object({ type: z.literal('tool'), name: z.string().min(1) }),
    ])
    .optional(),
  temperature: z.number().optional(),
  top_p: z.number().optional(),
  stop_sequences: z.array(z.string()).optional(),
  stream: z.boolean().optional(),
  /** `user_input`: the end user's own words behind an enhanced prompt (recorded, never sent). */
  metadata: z.object({ user_id: z.string().optional(), user_input: z.string().optional() }).optional(),
});

function toMessages(body: z.infer<typeof AnthropicMessagesBody>): Message[] {
  const out: Message[] = [];
  const system = typeof body.system === 'string' ? body.system : body.system?.map((b) => b.text).join('\n\n');
  if (system) out.push({ role: 'system', content: system });
  for (const message of body.messages) {
    if (typeof message.content === 'string') {
      out.push({ role: message.role, content: message.content });
      continue;
    }
    const texts = message.content.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('');
    const uses = message.content.flatMap((b) => (b.type === 'tool_use' ? [{ id: b.id, name: b.name, arguments: JSON.stringify(b.input ?? {}) }] : []));
    for (const block of message.content) {
      if (block.type !== 'tool_result') continue;
      const content = typeof block.content === 'string' ? block.content : (block.content ?? []).map((c) => c.text).join('');
      out.push({ role: 'tool', toolCallId: block.tool_use_id, content });
    }
    if (message.role === 'assistant') out.push({ role: 'assistant', content: texts, ...(uses.length ? { toolCalls: uses } : {}) });
    else if (texts) out.push({ role: 'user', content: texts });
  }
  return out;
}

export function parseAnthropicMessages(raw: unknown): LlmRequestInput {
  const parsed = AnthropicMessagesBody.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const param = issue.path.map(String).join('.');
    throw badRequest(`${param ? `${param}: ` : ''}${issue.message}`, param || undefined, 'invalid_parameter');
  }
  const body = parsed.data;
  const choice = body.tool_choice;
  return {
    route: body.model,
    messages: toMessages(body),
    ...(body.tools?.length
      ? { tools: body.tools.map((t) => ({ name: t.name, ...(t.description ? { description: t.description } : {}), parameters: t.input_schema })) }
      : {}),
    ...(choice ? { toolChoice: choice.type === 'tool' ? { name: choice.name } : choice.type === 'any' ? 'required' : choice.type } : {}),
    params: {
      maxTokens: body.max_tokens,
      ...(body.temperature !== undefined ? { temperature: body.temperature } : {}),
      ...(body.top_p !== undefined ? { topP: body.top_p } : {}),
      ...(body.stop_sequences?.length ? { stop: body.stop_sequences } : {}),
    },
    ...(body.metadata?.user_id ? { user: body.metadata.user_id } : {}),
    ...(body.metadata?.user_input !== undefined ? { userInput: body.metadata.user_input } : {}),
    stream: body.stream === true,
  };
}
