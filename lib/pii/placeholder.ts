// Placeholders that stand in for PII values in everything a vendor sees:
//
//   [[EMAIL_1_k3f9x2ab]]   label _ index _ nonce, in double square brackets
//
// - ASCII only, no quotes or backslashes: survives every tokenizer, JSON
//   strings, Markdown and tool arguments; models copy such tokens verbatim,
//   and the label ("EMAIL") keeps the sentence meaningful to the model.
// - The index is unique within a request across all kinds and is the last
//   `_` segment before the nonce, so no placeholder (nor its bare core)
//   equals or contains another.
// - The nonce (lower-case, starts with a letter) is per request and chosen so
//   that it occurs in none of the request's texts: no user text can contain a
//   placeholder, so restoring never rewrites anything the user wrote.

const nonceFormat = /^[a-z][a-z0-9]{3,31}$/;

/** A per-request nonce from any seed (e.g. the call id): FNV-1a, base 36, 9 characters starting with a letter. Deterministic, workflow-safe. */
export function derivePiiNonce(seed: string): string {
  let first = 0x811c9dc5;
  let second = 0x9e3779b9;
  for (let i = 0; i < seed.length; i += 1) {
    const code = seed.charCodeAt(i);
    first = Math.imul(first ^ code, 0x01000193) >>> 0;
    second = Math.imul(second ^ code, 0x01000193) >>> 0;
    second = (second ^ (second >>> 13)) >>> 0;
  }
  const digits = (first.toString(36) + second.toString(36)).padEnd(8, '0').slice(0, 8);
  return `p${digits}`;
}

/** Throws when a nonce could break placeholder uniqueness (must be /^[a-z][a-z0-9]{3,31}$/). */
function assertValidNonce(nonce: string): void {
  if (!nonceFormat.test(nonce)) throw new RangeError(`PII nonce must match ${nonceFormat}: got ${JSON.stringify(nonce)}`);
}

/** `nonce` itself if no text contains it, else the first of nonce0, nonce1, … that none contains. */
export function chooseNonce(nonce: string, texts: ReadonlyArray<string>): string {
  assertValidNonce(nonce);
  let candidate = nonce;
  for (let suffix = 0; texts.some((text) => text.includes(candidate)); suffix += 1) candidate = `${nonce}${suffix.toString(36)}`;
  return candidate;
}

/** `email` → `EMAIL`, custom `employee-id`-like names → `EMPLOYEE_ID`. */
export function placeholderLabel(kind: string): string {
  return kind.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}

export function formatPlaceholder(kind: string, index: number, nonce: string): string {
  return `[[${placeholderLabel(kind)}_${index}_${nonce}]]`;
}

/** The placeholder without its brackets: what a model that drops markup would still write. */
export function placeholderCore(placeholder: string): string {
  return placeholder.slice(2, -2);
}

/**
 * Swaps the nonce of every placeholder in `text` from one request's to
 * another's. A cached masked answer stored with the nonce of the request that
 * produced it is rebased onto the current request before `restorePii`.
 */
export function rebasePlaceholders(text: string, fromNonce: string, toNonce: string): string {
  assertValidNonce(fromNonce);
  assertValidNonce(toNonce);
  return text.replace(new RegExp(`(\\[\\[[A-Z0-9_]+_\\d+_)${fromNonce}(\\]\\])`, 'g'), `$1${toNonce}$2`);
}
