/**
 * Cost of the payload codec: AES-256-GCM encode + decode of one Temporal
 * payload, through the SDK's own data converter (JSON → payload → codec and
 * back), against the same converter without the codec. Payload sizes span a
 * short call input to a long answer.
 *
 *   npx tsx bench/payload-codec.ts [--iterations 20000]
 *
 * Prints µs per payload (encode + decode; the fastest of --rounds alternating
 * rounds, so other load on a shared machine counts least) and writes
 * bench/results/payload-codec.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type DataConverter, defaultPayloadConverter } from '@temporalio/common';
import { payloadDataConverter } from '../lib/codec';
import { newKeyEntry } from '../lib/codec/keyring';

const { values } = parseArgs({ options: { iterations: { type: 'string', default: '5000' }, rounds: { type: 'string', default: '7' } } });
const iterations = Number(values.iterations);
/** Rounds alternate clear and encrypted; the fastest round of each counts (the least disturbed by other load on the machine). */
const rounds = Number(values.rounds);
const SIZES = [512, 2_048, 8_192, 32_768];

/** A call-input-shaped value of about `bytes` bytes of JSON. */
const callInput = (bytes: number) => ({
  callId: 'call-4:acme:8:eu-inv-7',
  request: { route: 'chat-default', tenant: 'acme', messages: [{ role: 'user', content: 'x'.repeat(bytes) }] },
});

async function microsPerPayload(converter: DataConverter, value: unknown): Promise<number> {
  const codecs = converter.payloadCodecs ?? [];
  const once = async () => {
    let payloads = [defaultPayloadConverter.toPayload(value)];
    for (const codec of codecs) payloads = await codec.encode(payloads);
    for (const codec of [...codecs].reverse()) payloads = await codec.decode(payloads);
    return defaultPayloadConverter.fromPayload(payloads[0]!);
  };
  for (let i = 0; i < Math.min(2_000, iterations); i++) await once();
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await once();
  return Number(process.hrtime.bigint() - started) / 1_000 / iterations;
}

async function main(): Promise<void> {
  const encrypted = payloadDataConverter({ SB_PAYLOAD_KEYS: newKeyEntry('bench') });
  const clear: DataConverter = {};
  const rows: Array<{ bytes: number; clearMicros: number; encryptedMicros: number; codecMicros: number }> = [];
  for (const bytes of SIZES) {
    const value = callInput(bytes);
    let clearMicros = Infinity;
    let encryptedMicros = Infinity;
    for (let round = 0; round < rounds; round++) {
      clearMicros = Math.min(clearMicros, await microsPerPayload(clear, value));
      encryptedMicros = Math.min(encryptedMicros, await microsPerPayload(encrypted, value));
    }
    rows.push({ bytes, clearMicros: round(clearMicros), encryptedMicros: round(encryptedMicros), codecMicros: round(encryptedMicros - clearMicros) });
  }
  console.log('payload bytes | JSON only µs | JSON + AES-256-GCM µs | codec µs (encode+decode)');
  for (const r of rows)
    console.log(`${String(r.bytes).padStart(13)} | ${String(r.clearMicros).padStart(12)} | ${String(r.encryptedMicros).padStart(21)} | ${r.codecMicros}`);
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'payload-codec.json'),
    `${JSON.stringify({ benchmark: 'payload-codec', date: new Date().toISOString(), machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, loadAverage1m: loadavg()[0] }, iterations, rounds, results: rows }, null, 2)}\n`,
  );
}

const round = (n: number) => Math.round(n * 100) / 100;

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
