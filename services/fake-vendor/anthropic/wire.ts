/**
 * What Anthropic clients send to `POST /v1/messages`, parsed loosely (unknown
 * fields pass) but strictly where the fake vendor reads them; `max_tokens`
 * is required, as at the real API.
 */
import { z } from 'zod';

const Block = z.looseObject({
  type: z.string(),
  text: z.string().optional(),
  name: z.string().optional(),
  input: z.unknown().optional(),
  content: z.union([z.string(), z.array(z.looseObject({ type: z.string(), text: z.string().optional() }))]).optional(),
});
type Block = z.infer<typeof Block>;

export const AnthropicMessage = z.looseObject({
  role: z.enum(['user', 'assistant']),
  content: z.union([z.string(), z.array(Block)]),
});
export type AnthropicMessage = z.infer<typeof AnthropicMessage>;

export const AnthropicTool = z.looseObject({
  name: z.string().min(1),
  description: z.string().optional(),
  input_schema: z.record(z.string(), z.unknown()).optional(),
});
export type AnthropicTool = z.infer<typeof AnthropicTool>;

export const AnthropicToolChoice = z.looseObject({
  type: z.enum(['auto', 'any', 'tool', 'none']),
  name: z.string().optional(),
});

export const AnthropicMessagesRequest = z.looseObject({
  model: z.string().min(1),
  max_tokens: z.number().int().positive(),
  messages: z.array(AnthropicMessage).min(1),
  system: z.union([z.string(), z.array(z.looseObject({ type: z.string(), text: z.string().optional() }))]).optional(),
  stream: z.boolean().optional(),
  stop_sequences: z.array(z.string()).optional(),
  tools: z.array(AnthropicTool).optional(),
  tool_choice: AnthropicToolChoice.optional(),
  /** Native structured output: the answer text is JSON for `format.schema`. */
  output_config: z.looseObject({ format: z.looseObject({ type: z.literal('json_schema'), schema: z.record(z.string(), z.unknown()) }).nullish() }).nullish(),
});
export type AnthropicMessagesRequest = z.infer<typeof AnthropicMessagesRequest>;

function blockText(block: Block): string {
  switch (block.type) {
    case 'text':
      return block.text ?? '';
    case 'tool_use':
      return `[tool_use ${block.name ?? ''} ${JSON.stringify(block.input ?? {})}]`;
    case 'tool_result':
      return typeof block.content === 'string' ? block.content : (block.content ?? []).map((c) => c.text ?? `[${c.type}]`).join('\n');
    default:
      return `[${block.type}]`;
  }
}

export function anthropicContentText(content: AnthropicMessage['content']): string {
  return typeof content === 'string' ? content : content.map(blockText).join('\n');
}

/** The prompt as the request log stores and hashes it: the system prompt, then one `role: text` line per message. */
export function anthropicPromptText(request: AnthropicMessagesRequest): string {
  const lines: string[] = [];
  if (request.system !== undefined) {
    const system = typeof request.system === 'string' ? request.system : request.system.map((b) => b.text ?? '').join('\n');
    lines.push(`system: ${system}`);
  }
  for (const message of request.messages) lines.push(`${message.role}: ${anthropicContentText(message.content)}`);
  return lines.join('\n');
}

/** Text of the last user message, ignoring tool results (the directives live in what the user typed). */
export function anthropicLastUserText(messages: readonly AnthropicMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (message?.role !== 'user') continue;
    if (typeof message.content === 'string') return message.content;
    return message.content
      .filter((b) => b.type === 'text')
      .map((b) => b.text ?? '')
      .join('\n');
  }
  return '';
}

export function endsWithToolResult(messages: readonly AnthropicMessage[]): boolean {
  const last = messages[messages.length - 1];
  return last !== undefined && typeof last.content !== 'string' && last.content.some((b) => b.type === 'tool_result');
}
