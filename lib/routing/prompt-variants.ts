import type { PromptConfig } from '../../schemas/config';
import type { Message } from '../../schemas/llm';

/**
 * Applies a logical prompt's variant for `provider`: its system prompt goes
 * first (the caller's own system messages follow), its instructions are
 * appended to the last user message. Pure; also used to show "the prompt as
 * sent" in interaction records.
 */
export function applyPromptVariant(
  messages: Message[],
  promptId: string | undefined,
  prompt: PromptConfig | undefined,
  provider: string,
): { messages: Message[]; variant: string } {
  if (!promptId || !prompt) return { messages, variant: 'none' };
  const override = prompt.providers[provider];
  const variant = override ?? prompt.default;
  const variantName = `${promptId}:${override ? provider : 'default'}`;
  const result: Message[] = [];
  if (variant.system) result.push({ role: 'system', content: variant.system });
  result.push(...messages);
  if (variant.instructions) {
    const lastUser = result.map((m) => m.role).lastIndexOf('user');
    if (lastUser >= 0) {
      const target = result[lastUser]!;
      result[lastUser] = { ...target, content: `${target.content}\n\n${variant.instructions}` } as Message;
    } else {
      result.push({ role: 'user', content: variant.instructions });
    }
  }
  return { messages: result, variant: variantName };
}
