/**
 * The local stack's own secrets, made once per data dir and kept there (mode
 * 0600): a payload key (`<dataDir>/secrets/payload-keys`, so Temporal
 * payloads are encrypted on the local stack too) and the codec server's
 * operator token (`<dataDir>/secrets/codec-token`). Development only: a
 * deployment brings its own keys (docs/security.md).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { newKeyEntry } from '../../lib/codec/keyring';

export interface DevSecrets {
  payloadKeysFile: string;
  codecToken: string;
}

function ensureFile(path: string, make: () => string): string {
  if (!existsSync(path)) writeFileSync(path, `${make()}\n`, { mode: 0o600, flag: 'wx' });
  return readFileSync(path, 'utf8').trim();
}

export function ensureDevSecrets(dataDir: string): DevSecrets {
  const dir = join(resolve(dataDir), 'secrets');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const payloadKeysFile = join(dir, 'payload-keys');
  ensureFile(payloadKeysFile, () => newKeyEntry('dev-1'));
  const codecToken = ensureFile(join(dir, 'codec-token'), () => randomBytes(24).toString('base64url'));
  return { payloadKeysFile, codecToken };
}

/** The codec endpoint the local Temporal UI calls: the token rides in the path, since the UI (without a login) cannot send a header. */
export function uiCodecEndpoint(gatewayUrl: string, codecToken: string): string {
  return `${gatewayUrl}/codec/${codecToken}`;
}

/**
 * Variables the worker and gateway get from the dev secrets, unless the
 * caller's environment brings its own keys (then those are used as they are).
 */
export function devSecretsEnv(secrets: DevSecrets, uiOrigin: string | undefined, baseEnv: NodeJS.ProcessEnv): Record<string, string> {
  const ownKeys = baseEnv.SB_PAYLOAD_KEYS || baseEnv.SB_PAYLOAD_KEYS_FILE || baseEnv.SB_PAYLOAD_CODEC === 'off';
  return {
    ...(ownKeys ? {} : { SB_PAYLOAD_KEYS_FILE: secrets.payloadKeysFile }),
    ...(baseEnv.SB_CODEC_TOKEN ? {} : { SB_CODEC_TOKEN: secrets.codecToken }),
    ...(uiOrigin && !baseEnv.SB_CODEC_CORS_ORIGINS ? { SB_CODEC_CORS_ORIGINS: uiOrigin } : {}),
  };
}
