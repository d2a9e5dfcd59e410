/**
 * Identifiers shaped like the vendors' (`chatcmpl-…`, `msg_…`, `req_…`).
 * A per-process random stem plus a counter: unique, and cheap on the hot path.
 */
import { randomBytes } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function stem(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += ALPHABET[byte % ALPHABET.length];
  return out;
}

/** Returns a function that makes ids `${prefix}${stem}${counter}`, about `length` characters after the prefix. */
export function idFactory(prefix: string, length = 24): () => string {
  const base = stem(Math.max(4, length - 8));
  let counter = 0;
  return () => `${prefix}${base}${(counter++).toString(36).padStart(8, '0')}`;
}
