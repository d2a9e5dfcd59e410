import { JSONCodec } from 'nats';
import { z } from 'zod';

/** What the attempt activity publishes on core NATS `sb.stream.<callId>` while a vendor streams. */
export const StreamChunk = z.discriminatedUnion('type', [
  /** `model`: the model the vendor says is answering (absent from publishers that predate it). */
  /** `resumes`: the attempt continues a stream a failed attempt began; its deltas follow the text already sent. */
  z.object({
    type: z.literal('delta'),
    attempt: z.number().int(),
    index: z.number().int(),
    text: z.string(),
    model: z.string().optional(),
    resumes: z.boolean().optional(),
  }),
  /** The attempt that was streaming failed after sending deltas: they are void. */
  z.object({ type: z.literal('attempt_failed'), attempt: z.number().int(), reason: z.string() }),
]);
export type StreamChunk = z.infer<typeof StreamChunk>;

const codec = JSONCodec<StreamChunk>();

/**
 * `sb.stream.<callId>` as one subject token: `%` and the characters NATS
 * reserves (`.`, `*`, `>`, whitespace) are percent-escaped, so two call ids
 * never share a subject (replacing them with `_` made keys `a.b` and `a_b`
 * meet, and a caller read another call's deltas).
 */
export function streamSubject(callId: string): string {
  return `sb.stream.${callId.replace(/[%.*>\s]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)}`;
}

export function encodeStreamChunk(chunk: StreamChunk): Uint8Array {
  return codec.encode(chunk);
}

export function decodeStreamChunk(data: Uint8Array): StreamChunk {
  return StreamChunk.parse(codec.decode(data));
}
