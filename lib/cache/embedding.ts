// The default embedder of the semantic cache: deterministic, local, no model
// download. It hashes character trigrams and words into a fixed-size vector
// (the "hashing trick", with a sign bit so collisions cancel instead of
// pile up) and L2-normalises it. It sees spelling, not meaning: it is made to
// recognise the same question asked with small edits (case, punctuation,
// a typo, a filler word), not true paraphrases — that is what the vendor
// embedder is for. Pure and free of Node built-ins.

/** Function words that carry little of a question's subject; their features weigh less. */
const fillerWords = new Set(
  'a an the is are was were be been am do does did can could would should will shall may might must i me my we our you your it its this that these those of to in on at for from by with about as and or but please what whats how why when where which who whom'.split(
    ' ',
  ),
);

const trigramWeight = 1;
const wordWeight = 0.5;
const fillerWordWeight = 0.3;
const fillerTrigramWeight = 0.3;
const bigramShare = 1;
/** "2 sentences" and "5 sentences" are different requests: numbers weigh most. */
const numberWeight = 3;

/** FNV-1a, 32-bit: a stable hash that needs no crypto. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

/** Lower-cased NFKC words of letters and digits; apostrophes join ("what's" → "whats"). */
export function embeddingWords(text: string): string[] {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/['’]/gu, '')
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word !== '');
}

function addFeature(vector: number[], feature: string, weight: number): void {
  const hash = fnv1a(feature);
  const index = hash % vector.length;
  vector[index] = (vector[index] ?? 0) + (hash & 0x80000000 ? -weight : weight);
}

/**
 * A unit vector of `dims` numbers for `text` (all zeros for text without
 * letters or digits). Same text, same vector, on every machine.
 */
export function localEmbedding(text: string, dims = 256): number[] {
  if (!Number.isInteger(dims) || dims < 8) throw new RangeError(`dims must be an integer >= 8, got ${dims}`);
  const vector = new Array<number>(dims).fill(0);
  for (const word of embeddingWords(text)) {
    const isFiller = fillerWords.has(word);
    addFeature(vector, `w:${word}`, /\p{N}/u.test(word) ? numberWeight : isFiller ? fillerWordWeight : wordWeight);
    const padded = ` ${word} `;
    for (let i = 0; i + 3 <= padded.length; i += 1) addFeature(vector, `t:${padded.slice(i, i + 3)}`, isFiller ? fillerTrigramWeight : trigramWeight);
    for (let i = 0; i + 2 <= padded.length; i += 1)
      addFeature(vector, `b:${padded.slice(i, i + 2)}`, (isFiller ? fillerTrigramWeight : trigramWeight) * bigramShare);
  }
  const norm = Math.hypot(...vector);
  return norm === 0 ? vector : vector.map((value) => value / norm);
}

/** Cosine similarity in [-1, 1]; 0 when either vector is all zeros. Throws on different lengths. */
export function cosineSimilarity(a: ReadonlyArray<number>, b: ReadonlyArray<number>): number {
  if (a.length !== b.length) throw new RangeError(`vectors differ in length: ${a.length} vs ${b.length}`);
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i += 1) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    dot += x * y;
    normA += x * x;
    normB += y * y;
  }
  return normA === 0 || normB === 0 ? 0 : dot / Math.sqrt(normA * normB);
}
