import { createHash } from 'node:crypto';
import type { LlmRequest, Message } from '../../schemas/llm';
import { canonicalJson } from './canonical-json';

// Exact-cache keys. Runs in activities only (node:crypto); workflow code must
// not import this module.

/** Bump when the keyed fields or their spelling change: old entries then simply miss. */
const keyVersion = 1;

/** Everything an answer depends on. `stream`, `user`, `feature`, deadlines and idempotency keys are deliberately not keyed. */
export interface ExactCacheKeyInput {
  tenant: string;
  route: string;
  /** The model of the route entry the answer comes from. */
  model: string;
  promptVariant: string;
  /** The messages as sent to the vendor: masked, with the prompt variant applied. */
  messages: ReadonlyArray<Message>;
  params?: LlmRequest['params'];
  tools?: LlmRequest['tools'];
  toolChoice?: LlmRequest['toolChoice'];
  output?: LlmRequest['output'];
  /**
   * The request's PII nonce (from `maskMessages`). Not keyed: placeholders are
   * keyed without it, so two requests whose masked prompts differ only in
   * their nonce share an entry — the vendor saw the same thing. Default none.
   */
  piiNonce?: string;
}

/** UTF-8 bytes of one code point; a lone surrogate gets its WTF-8 bytes, so distinct strings never share bytes. */
function utf8Bytes(codePoint: number): number[] {
  if (codePoint < 0x80) return [codePoint];
  if (codePoint < 0x800) return [0xc0 | (codePoint >> 6), 0x80 | (codePoint & 0x3f)];
  if (codePoint < 0x10000) return [0xe0 | (codePoint >> 12), 0x80 | ((codePoint >> 6) & 0x3f), 0x80 | (codePoint & 0x3f)];
  return [0xf0 | (codePoint >> 18), 0x80 | ((codePoint >> 12) & 0x3f), 0x80 | ((codePoint >> 6) & 0x3f), 0x80 | (codePoint & 0x3f)];
}

/**
 * One KV key token per tenant: letters, digits, `_` and `-` are kept, every
 * other character (`=` itself, and `.` which would split the token) becomes
 * `=XX` per UTF-8 byte. Injective, so two tenants never share a prefix.
 */
export function encodeTenantForKey(tenant: string): string {
  let encoded = '';
  for (const char of tenant) {
    if (/^[A-Za-z0-9_-]$/.test(char)) encoded += char;
    else for (const byte of utf8Bytes(char.codePointAt(0) ?? 0)) encoded += `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return encoded === '' ? '=' : encoded;
}

/**
 * The text with the nonce spelled `*`. Existing `\` and `*` are escaped first,
 * so the mapping stays injective: a user who types `*` cannot make two
 * different prompts collide.
 */
export function withoutPiiNonce(text: string, nonce: string | undefined): string {
  if (nonce === undefined || nonce === '') return text;
  return text.replace(/[\\*]/g, '\\$&').replaceAll(nonce, '*');
}

function messagesWithoutPiiNonce(messages: ReadonlyArray<Message>, nonce: string | undefined): Message[] {
  return messages.map((message): Message => {
    const content = withoutPiiNonce(message.content, nonce);
    if (message.role !== 'assistant' || !message.toolCalls) return { ...message, content };
    return { ...message, content, toolCalls: message.toolCalls.map((call) => ({ ...call, arguments: withoutPiiNonce(call.arguments, nonce) })) };
  });
}

/** Hex SHA-256 of the canonical JSON of `value`, tagged with what it is for (so an exact key never equals a semantic scope). */
export function hashCanonical(purpose: string, value: unknown): string {
  return createHash('sha256').update(`${purpose}/v${keyVersion}\n`).update(canonicalJson(value)).digest('hex');
}

/**
 * `<tenant>.<sha256 hex>`: a valid NATS KV key (`[-/_=.a-zA-Z0-9]`), one
 * subject token per tenant so an operator can list or purge a tenant's
 * entries (`<tenant>.>`). The tenant is hashed too, so even a hypothetical
 * prefix clash could not share an entry.
 */
export function exactCacheKey(input: ExactCacheKeyInput): string {
  const keyed = {
    tenant: input.tenant,
    route: input.route,
    model: input.model,
    promptVariant: input.promptVariant,
    messages: messagesWithoutPiiNonce(input.messages, input.piiNonce),
    // Absent and empty mean the same request; spell them the same.
    params: input.params ?? {},
    tools: input.tools ?? [],
    toolChoice: input.toolChoice ?? null,
    output: input.output ?? null,
  };
  return `${encodeTenantForKey(input.tenant)}.${hashCanonical('exact', keyed)}`;
}
