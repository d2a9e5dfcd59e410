/**
 * The payload keys of one process, parsed once at start-up: `id:base64`
 * entries (32-byte AES keys), the first of which encrypts new payloads while
 * every listed key still decrypts (rotation: put the new key first, keep the
 * old ones until nothing encrypted with them is read any more). Errors name
 * the variable and the entry's position, never a key.
 */
import { createSecretKey, type KeyObject, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../config/load';

export interface PayloadKeyring {
  /** Id of the key new payloads are encrypted with (kept in each payload's metadata). */
  writeKeyId: string;
  /** Every usable key by id, the write key included. */
  keys: ReadonlyMap<string, KeyObject>;
}

const KeyId = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'a key id is 1–32 letters, digits, _ or -');
const KeyBytes = z
  .string()
  .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'not base64')
  .transform((text) => Buffer.from(text, 'base64'))
  .refine((bytes) => bytes.length === 32, 'an AES-256 key is 32 bytes (44 base64 characters)');

/** Parses `id:base64` entries separated by commas or newlines (`#` starts a comment line). */
export function parseKeyring(text: string, variable: string): PayloadKeyring {
  const entries = text
    .split(/[,\n]/)
    .map((entry) => entry.trim())
    .filter((entry) => entry && !entry.startsWith('#'));
  if (!entries.length) throw new ConfigError(`${variable}: no keys (expected id:base64-key entries)`);
  const keys = new Map<string, KeyObject>();
  entries.forEach((entry, index) => {
    const colon = entry.indexOf(':');
    const id = KeyId.safeParse(colon < 0 ? '' : entry.slice(0, colon));
    const bytes = KeyBytes.safeParse(entry.slice(colon + 1));
    const problem =
      colon < 0 ? 'expected id:base64-key' : !id.success ? id.error.issues[0]!.message : !bytes.success ? bytes.error.issues[0]!.message : undefined;
    if (problem) throw new ConfigError(`${variable}: entry ${index + 1} is invalid: ${problem}`);
    if (keys.has(id.data!)) throw new ConfigError(`${variable}: key id "${id.data!}" is listed twice`);
    keys.set(id.data!, createSecretKey(bytes.data!));
  });
  return { writeKeyId: keys.keys().next().value!, keys };
}

/** From `SB_PAYLOAD_KEYS` (the entries themselves) or `SB_PAYLOAD_KEYS_FILE` (a file of them); exactly one. */
export function loadKeyring(env: { SB_PAYLOAD_KEYS?: string | undefined; SB_PAYLOAD_KEYS_FILE?: string | undefined }): PayloadKeyring {
  const { SB_PAYLOAD_KEYS: inline, SB_PAYLOAD_KEYS_FILE: file } = env;
  if (inline !== undefined && file !== undefined) throw new ConfigError('SB_PAYLOAD_KEYS and SB_PAYLOAD_KEYS_FILE are both set: use one');
  if (inline !== undefined) return parseKeyring(inline, 'SB_PAYLOAD_KEYS');
  if (file === undefined) {
    throw new ConfigError('SB_PAYLOAD_KEYS or SB_PAYLOAD_KEYS_FILE is required to encrypt Temporal payloads (SB_PAYLOAD_CODEC=off stores them in clear)');
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`SB_PAYLOAD_KEYS_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  return parseKeyring(text, `SB_PAYLOAD_KEYS_FILE (${file})`);
}

/** A fresh `id:base64` entry (32 random bytes): the local stack's dev key, a test run's key. */
export function newKeyEntry(id: string): string {
  return `${KeyId.parse(id)}:${randomBytes(32).toString('base64')}`;
}
