/**
 * AES-256-GCM for every Temporal payload a Switchboard client or worker
 * writes: workflow and activity inputs and results, signals, queries,
 * failures' details, memos. Search attributes are not payloads the codec
 * sees: they stay readable (ids, never content). Each payload gets a fresh
 * 12-byte IV; its metadata names only the encoding and the key id, so old
 * payloads decrypt with their own key after a rotation. Keys are KeyObjects
 * made once at start-up: no per-call derivation.
 *
 * Codecs run in the worker's and client's main thread, outside the workflow
 * sandbox: nothing here reaches the workflow bundle.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { PayloadKeyring } from './keyring';
import { payloadFromBytes, payloadToBytes } from './payload-bytes';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const CIPHER = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const encodingOf = (payload: Payload) => (payload.metadata?.encoding ? Buffer.from(payload.metadata.encoding).toString('utf8') : undefined);

/** A payload encrypted with a key this process does not hold, or whose ciphertext does not authenticate. */
export class PayloadDecryptionError extends Error {
  override readonly name = 'PayloadDecryptionError';
}

export function isPayloadDecryptionError(error: unknown): error is PayloadDecryptionError {
  return error instanceof Error && error.name === 'PayloadDecryptionError';
}

export function encryptPayload(keyring: PayloadKeyring, payload: Payload): Payload {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(CIPHER, keyring.keys.get(keyring.writeKeyId)!, iv);
  const sealed = Buffer.concat([iv, cipher.update(payloadToBytes(payload)), cipher.final(), cipher.getAuthTag()]);
  return {
    metadata: { encoding: Buffer.from(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: Buffer.from(keyring.writeKeyId) },
    data: sealed,
  };
}

/** The original payload; a payload that is not encrypted passes as it is (written before the codec was on). */
export function decryptPayload(keyring: PayloadKeyring, payload: Payload): Payload {
  if (encodingOf(payload) !== ENCRYPTED_ENCODING) return payload;
  const keyId = payload.metadata?.[KEY_ID_METADATA] ? Buffer.from(payload.metadata[KEY_ID_METADATA]).toString('utf8') : '';
  const key = keyring.keys.get(keyId);
  if (!key) throw new PayloadDecryptionError(`payload encrypted with key "${keyId}", which is not configured (SB_PAYLOAD_KEYS)`);
  const sealed = Buffer.from(payload.data ?? new Uint8Array(0));
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new PayloadDecryptionError(`payload encrypted with key "${keyId}" is truncated`);
  const decipher = createDecipheriv(CIPHER, key, sealed.subarray(0, IV_BYTES));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  try {
    return payloadFromBytes(Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]));
  } catch {
    throw new PayloadDecryptionError(`payload encrypted with key "${keyId}" does not authenticate (tampered, or another key of that id)`);
  }
}

export function createPayloadCodec(keyring: PayloadKeyring): PayloadCodec {
  return {
    encode: (payloads) => Promise.resolve(payloads.map((payload) => encryptPayload(keyring, payload))),
    decode: (payloads) => Promise.resolve(payloads.map((payload) => decryptPayload(keyring, payload))),
  };
}
