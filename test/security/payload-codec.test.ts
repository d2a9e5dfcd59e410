/**
 * The payload codec on its own: round trips, rotation (new writes with the
 * first key, old payloads readable while their key is listed), failures that
 * name the key id and never a key, keyrings parsed with the variable named.
 */
import fc from 'fast-check';
import type { Payload } from '@temporalio/common';
import { newKeyEntry, parseKeyring, loadKeyring } from '../../lib/codec/keyring';
import { payloadFromBytes, payloadToBytes } from '../../lib/codec/payload-bytes';
import {
  createPayloadCodec,
  decryptPayload,
  encryptPayload,
  ENCRYPTED_ENCODING,
  isPayloadDecryptionError,
  KEY_ID_METADATA,
} from '../../lib/codec/payload-codec';

const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? new Uint8Array(0)).toString('utf8');
const jsonPayload = (value: unknown): Payload => ({ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(value)) });

describe('payload codec', () => {
  const old = newKeyEntry('k-2025');
  const current = newKeyEntry('k-2026');

  it('encrypts: the stored payload names only its encoding and key id, and decrypts to the original', async () => {
    const codec = createPayloadCodec(parseKeyring(current, 'SB_PAYLOAD_KEYS'));
    const original = jsonPayload({ prompt: 'mail jane.doe@example.com, card 4111 1111 1111 1111' });
    const [sealed] = await codec.encode([original]);
    expect(Object.keys(sealed!.metadata!).sort()).toEqual(['encoding', KEY_ID_METADATA]);
    expect(text(sealed!.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(sealed!.metadata![KEY_ID_METADATA])).toBe('k-2026');
    expect(text(sealed!.data)).not.toContain('jane.doe');
    expect(text(sealed!.data)).not.toContain('4111');
    const [opened] = await codec.decode([sealed!]);
    expect(text(opened!.data)).toBe(text(original.data));
    expect(text(opened!.metadata!.encoding)).toBe('json/plain');
  });

  it('uses a fresh IV per payload: the same payload twice is two ciphertexts', () => {
    const keyring = parseKeyring(current, 'SB_PAYLOAD_KEYS');
    const payload = jsonPayload('same');
    expect(Buffer.from(encryptPayload(keyring, payload).data!).equals(Buffer.from(encryptPayload(keyring, payload).data!))).toBe(false);
  });

  it('rotates: new writes use the first key, payloads of the old key stay readable while it is listed', () => {
    const before = parseKeyring(old, 'SB_PAYLOAD_KEYS');
    const after = parseKeyring(`${current},${old}`, 'SB_PAYLOAD_KEYS');
    const written = encryptPayload(before, jsonPayload('written before the rotation'));
    expect(text(decryptPayload(after, written).data)).toBe('"written before the rotation"');
    expect(text(encryptPayload(after, jsonPayload('new')).metadata![KEY_ID_METADATA])).toBe('k-2026');
    const retired = parseKeyring(current, 'SB_PAYLOAD_KEYS');
    const error = (() => {
      try {
        decryptPayload(retired, written);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(isPayloadDecryptionError(error)).toBe(true);
    expect((error as Error).message).toContain('"k-2025"');
  });

  it('refuses a tampered payload and one of another key with the same id', () => {
    const keyring = parseKeyring(current, 'SB_PAYLOAD_KEYS');
    const sealed = encryptPayload(keyring, jsonPayload('x'));
    const flipped = Buffer.from(sealed.data!);
    flipped[20] = flipped[20]! ^ 1;
    expect(() => decryptPayload(keyring, { ...sealed, data: flipped })).toThrow(/does not authenticate/);
    const impostor = parseKeyring(newKeyEntry('k-2026'), 'SB_PAYLOAD_KEYS');
    expect(() => decryptPayload(impostor, sealed)).toThrow(/does not authenticate/);
  });

  it('lets a payload written in clear (before the codec was on) through', () => {
    const clear = jsonPayload({ old: true });
    expect(decryptPayload(parseKeyring(current, 'SB_PAYLOAD_KEYS'), clear)).toBe(clear);
  });

  it('keeps any metadata and data through the byte layout', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.oneof(fc.constantFrom('__proto__', 'constructor', 'encoding'), fc.string({ minLength: 1, maxLength: 20 })),
          fc.uint8Array({ maxLength: 64 }),
          { maxKeys: 6 },
        ),
        fc.uint8Array({ maxLength: 512 }),
        (metadata, data) => {
          const back = payloadFromBytes(payloadToBytes({ metadata, data }));
          expect(Object.fromEntries(Object.entries(back.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('hex')]))).toEqual(
            Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, Buffer.from(v).toString('hex')])),
          );
          expect(Buffer.from(back.data!).toString('hex')).toBe(Buffer.from(data).toString('hex'));
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('payload keyring', () => {
  const secret = 'c2VjcmV0LWtleS1ub3QtMzItYnl0ZXM=';

  it.each([
    ['', /SB_PAYLOAD_KEYS: no keys/],
    ['nocolon', /entry 1 is invalid: expected id:base64-key/],
    [`bad id!:${Buffer.alloc(32).toString('base64')}`, /entry 1 is invalid: a key id/],
    [`short:${secret}`, /entry 1 is invalid: an AES-256 key is 32 bytes/],
    [`a:${Buffer.alloc(32).toString('base64')},a:${Buffer.alloc(32, 1).toString('base64')}`, /key id "a" is listed twice/],
  ])('rejects %j naming the variable and the entry, never the key', (value, message) => {
    let error: unknown;
    try {
      parseKeyring(value, 'SB_PAYLOAD_KEYS');
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toMatch(/^SB_PAYLOAD_KEYS/);
    expect((error as Error).message).not.toContain(secret);
  });

  it('needs keys unless the codec is off, and one source only', () => {
    expect(() => loadKeyring({})).toThrow(/SB_PAYLOAD_KEYS or SB_PAYLOAD_KEYS_FILE is required/);
    expect(() => loadKeyring({ SB_PAYLOAD_KEYS: newKeyEntry('a'), SB_PAYLOAD_KEYS_FILE: '/x' })).toThrow(/both set/);
    expect(() => loadKeyring({ SB_PAYLOAD_KEYS_FILE: '/nonexistent/keys' })).toThrow(/SB_PAYLOAD_KEYS_FILE: cannot read \/nonexistent\/keys \(ENOENT\)/);
  });

  it('reads entries one per line with comments, the first being the write key', () => {
    const keyring = parseKeyring(`# rotated 2026-12\n${newKeyEntry('new')}\n${newKeyEntry('old')}\n`, 'SB_PAYLOAD_KEYS_FILE');
    expect(keyring.writeKeyId).toBe('new');
    expect([...keyring.keys.keys()]).toEqual(['new', 'old']);
  });
});
