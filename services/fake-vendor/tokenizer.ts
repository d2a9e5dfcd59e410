/**
 * The fake vendor's tokenizer: a token is optional leading whitespace plus up
 * to four non-space characters (roughly what real BPE tokenizers average on
 * English). The same rule counts prompts and completions, and a stream sends
 * exactly one content chunk per token, so `usage` always agrees with what the
 * client received.
 */

const TOKEN = /\s*\S{1,4}|\s+/g;

/** Splits text into tokens; `tokenize(t).join('') === t`. */
export function tokenize(text: string): string[] {
  return text.match(TOKEN) ?? [];
}

export function countTokens(text: string): number {
  if (text.length === 0) return 0;
  let count = 0;
  TOKEN.lastIndex = 0;
  while (TOKEN.exec(text) !== null) count++;
  return count;
}
