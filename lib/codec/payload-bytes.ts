/**
 * One Temporal payload (metadata and data) as bytes and back: what the codec
 * encrypts, so an encrypted payload hides its original encoding too.
 * Layout: u16 entry count, then per entry u16 name length, name (UTF-8),
 * u32 value length, value; the rest is the data.
 */
import type { Payload } from '@temporalio/common';

export function payloadToBytes(payload: Payload): Buffer {
  const entries = Object.entries(payload.metadata ?? {}).map(([name, value]) => [Buffer.from(name, 'utf8'), value] as const);
  const data = payload.data ?? new Uint8Array(0);
  const size = 2 + entries.reduce((sum, [name, value]) => sum + 2 + name.length + 4 + value.length, 0) + data.length;
  const out = Buffer.allocUnsafe(size);
  let at = out.writeUInt16BE(entries.length, 0);
  for (const [name, value] of entries) {
    at = out.writeUInt16BE(name.length, at);
    at += name.copy(out, at);
    at = out.writeUInt32BE(value.length, at);
    out.set(value, at);
    at += value.length;
  }
  out.set(data, at);
  return out;
}

export function payloadFromBytes(bytes: Buffer): Payload {
  // Entries, not assignments: a metadata name such as `__proto__` stays data.
  const entries: Array<[string, Uint8Array]> = [];
  const count = bytes.readUInt16BE(0);
  let at = 2;
  for (let i = 0; i < count; i++) {
    const nameLength = bytes.readUInt16BE(at);
    const name = bytes.toString('utf8', at + 2, at + 2 + nameLength);
    at += 2 + nameLength;
    const valueLength = bytes.readUInt32BE(at);
    entries.push([name, bytes.subarray(at + 4, at + 4 + valueLength)]);
    at += 4 + valueLength;
  }
  if (at > bytes.length) throw new RangeError('payload bytes end inside their metadata');
  return { metadata: Object.fromEntries(entries), data: bytes.subarray(at) };
}
