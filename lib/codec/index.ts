/**
 * The DataConverter every Temporal client and worker of the project is built
 * with: payloads encrypted with AES-256-GCM (payload-codec.ts) from keys in
 * SB_PAYLOAD_KEYS / SB_PAYLOAD_KEYS_FILE, or in clear with
 * SB_PAYLOAD_CODEC=off. Built once at start-up; the keyring error names the
 * variable, never a key.
 */
import type { DataConverter } from '@temporalio/common';
import { loadKeyring, type PayloadKeyring } from './keyring';
import { createPayloadCodec } from './payload-codec';

export interface PayloadCodecEnv {
  /** `aes-256-gcm` (default) or `off`. */
  SB_PAYLOAD_CODEC?: 'aes-256-gcm' | 'off' | undefined;
  SB_PAYLOAD_KEYS?: string | undefined;
  SB_PAYLOAD_KEYS_FILE?: string | undefined;
}

/** The keyring, or undefined with the codec off. */
export function payloadKeyringOf(env: PayloadCodecEnv): PayloadKeyring | undefined {
  return env.SB_PAYLOAD_CODEC === 'off' ? undefined : loadKeyring(env);
}

/** `{ payloadCodecs: [aes-256-gcm] }`, or `{}` without a keyring. */
export function dataConverterOf(keyring: PayloadKeyring | undefined): DataConverter {
  return keyring ? { payloadCodecs: [createPayloadCodec(keyring)] } : {};
}

/** Both steps, for processes that need only the converter. */
export function payloadDataConverter(env: PayloadCodecEnv): DataConverter {
  return dataConverterOf(payloadKeyringOf(env));
}

export type { PayloadKeyring } from './keyring';
