/**
 * Request fields by the names the caller sent them: an error about
 * `params.maxTokens` names `max_tokens` (OpenAI) or `max_tokens` (Anthropic),
 * `output.schema` names `response_format.json_schema.schema`, so a client can
 * point at its own parameter.
 */
import type { ErrorDialect } from './http-errors';

const OPENAI: ReadonlyArray<[RegExp, string]> = [
  [/^params\.maxTokens/, 'max_completion_tokens'],
  [/^params\.temperature/, 'temperature'],
  [/^params\.topP/, 'top_p'],
  [/^params\.stop/, 'stop'],
  [/^output\.schema/, 'response_format.json_schema.schema'],
  [/^output\.name/, 'response_format.json_schema.name'],
  [/^output$/, 'response_format'],
  [/^tools\.(\d+)\.parameters/, 'tools.$1.function.parameters'],
  [/^tools\.(\d+)\.name/, 'tools.$1.function.name'],
  [/^toolChoice/, 'tool_choice'],
  [/^userInput/, 'metadata.user_input'],
  [/^route$/, 'model'],
];

const ANTHROPIC: ReadonlyArray<[RegExp, string]> = [
  [/^params\.maxTokens/, 'max_tokens'],
  [/^params\.temperature/, 'temperature'],
  [/^params\.topP/, 'top_p'],
  [/^params\.stop/, 'stop_sequences'],
  [/^tools\.(\d+)\.parameters/, 'tools.$1.input_schema'],
  [/^toolChoice/, 'tool_choice'],
  [/^user$/, 'metadata.user_id'],
  [/^userInput/, 'metadata.user_input'],
  [/^route$/, 'model'],
];

/** The caller's name for an LlmRequest field path (`params.maxTokens` → `max_completion_tokens`); unknown paths unchanged. */
export function wireParamName(path: string, dialect: ErrorDialect): string {
  if (path === 'idempotencyKey') return 'Idempotency-Key';
  for (const [pattern, name] of dialect === 'openai' ? OPENAI : ANTHROPIC) {
    const match = pattern.exec(path);
    if (match) return path.replace(pattern, name);
  }
  return path;
}
