/** A stretch of text a detector recognised as one PII value. */
export interface PiiSpan {
  /** Built-in kind or custom pattern name. */
  kind: string;
  start: number;
  /** Exclusive. */
  end: number;
}

const wordLike = /[\p{L}\p{N}_]/u;

/** True when the character at `index` continues a word or number (so a match there is part of something bigger). */
export function isWordCharAt(text: string, index: number): boolean {
  const char = text[index];
  return char !== undefined && wordLike.test(char);
}

/**
 * Greedy digit-run regexes can swallow a neighbour ("555-123-4567 2 times");
 * this tries the candidate's prefixes that end before a space, longest first,
 * and returns the length of the first one `isValid` accepts (0 if none).
 * Only spaces are cut at: dashes, dots and slashes bind groups of one number,
 * and cutting there would mask part of it and leak the rest.
 */
export function longestValidPrefix(candidate: string, isValid: (prefix: string) => boolean): number {
  if (isValid(candidate)) return candidate.length;
  for (let end = candidate.lastIndexOf(' '); end > 0; end = candidate.lastIndexOf(' ', end - 1)) {
    if (/[\d)]/.test(candidate[end - 1] ?? '') && isValid(candidate.slice(0, end))) return end;
  }
  return 0;
}

/** Runs a global regex over `text`, letting `accept` decide each candidate's final length (0 rejects it; scanning resumes after what was taken). */
export function scanCandidates(text: string, pattern: RegExp, kind: string, accept: (candidate: string, start: number) => number): PiiSpan[] {
  const regex = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`);
  const spans: PiiSpan[] = [];
  let match: RegExpExecArray | null;
  while ((match = regex.exec(text)) !== null) {
    const start = match.index;
    const length = match[0].length === 0 ? 0 : accept(match[0], start);
    if (length > 0) {
      spans.push({ kind, start, end: start + length });
      regex.lastIndex = start + length;
    } else {
      regex.lastIndex = start + Math.max(1, match[0].length);
    }
  }
  return spans;
}
