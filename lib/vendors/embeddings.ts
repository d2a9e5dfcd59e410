/**
 * Embedding vectors in the compact form the workflow carries them
 * (`Embeddings`: little-endian float32, concatenated, base64) and back.
 */
import type { Embeddings } from '../../schemas/llm';

/** The most inputs OpenAI's embeddings endpoint takes in one request. */
export const MAX_EMBEDDING_INPUTS_PER_REQUEST = 2_048;

export function packEmbeddings(vectors: number[][]): Embeddings {
  const dimensions = vectors[0]?.length ?? 0;
  if (vectors.some((v) => v.length !== dimensions)) throw new Error('vectors of different sizes in one answer');
  const floats = new Float32Array(vectors.length * dimensions);
  vectors.forEach((v, i) => floats.set(v, i * dimensions));
  return { dimensions: Math.max(1, dimensions), count: vectors.length, float32Base64: Buffer.from(floats.buffer).toString('base64') };
}

/** The vectors as float32 arrays (views on one buffer). */
export function unpackEmbeddings(embeddings: Embeddings): Float32Array[] {
  const bytes = Buffer.from(embeddings.float32Base64, 'base64');
  const floats = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return Array.from({ length: embeddings.count }, (_, i) => floats.subarray(i * embeddings.dimensions, (i + 1) * embeddings.dimensions));
}

/** One vector as OpenAI's `encoding_format: base64` sends it (little-endian float32). */
export function vectorToBase64(vector: Float32Array): string {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64');
}
