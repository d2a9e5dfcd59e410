// How answers are measured for length bounds. The rules depend only on
// Unicode script properties, never on ICU word dictionaries (Intl.Segmenter),
// so a workflow replayed on another Node version reaches the same verdict.

/** Scripts written without spaces between words. */
const unspacedScript = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;
const unspacedRun = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}ー]+/gu;
const wordCharacter = /[\p{L}\p{N}]/u;

/**
 * Chinese words average 1.5–2 characters and Japanese ones a little more, so
 * two characters count as one word: English-calibrated bounds ("a button has
 * at most 4 words") then hold for 立即购买 (2 words) and 詳細を見る (3 words).
 */
export const unspacedCharsPerWord = 2;

/** Characters of the trimmed text, counted as Unicode code points (an emoji is one, not two UTF-16 units). */
export function countChars(text: string): number {
  let chars = 0;
  for (const _ of text.trim()) chars += 1;
  return chars;
}

/**
 * Words of the text: whitespace-separated tokens that contain a letter or a
 * digit (so "—" and "→" are not words, "e-mail" and "3.5" are one each); a run
 * of Han/Hiragana/Katakana counts ceil(length / unspacedCharsPerWord) words
 * and splits the token it sits in ("Click购买" = 2 words).
 */
export function countWords(text: string): number {
  let words = 0;
  for (const token of text.split(/\s+/u)) {
    if (token === '') continue;
    if (!unspacedScript.test(token)) {
      if (wordCharacter.test(token)) words += 1;
      continue;
    }
    for (const run of token.match(unspacedRun) ?? []) words += Math.ceil([...run].length / unspacedCharsPerWord);
    for (const rest of token.split(unspacedRun)) if (wordCharacter.test(rest)) words += 1;
  }
  return words;
}
