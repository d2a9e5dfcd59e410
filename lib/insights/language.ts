/**
 * A small, dependency-free guess of a text's language: script first (CJK,
 * Cyrillic, Arabic, …), then stop-word counts for Latin-script languages.
 * Good enough to group costs and rejections by language; not a classifier.
 */
const STOP_WORDS: Record<string, string[]> = {
  en: ['the', 'and', 'for', 'with', 'this', 'that', 'you', 'are', 'our', 'of', 'to', 'a', 'is', 'in'],
  de: ['der', 'die', 'das', 'und', 'für', 'mit', 'ist', 'nicht', 'ein', 'eine', 'zu', 'auf', 'wir'],
  fr: ['le', 'la', 'les', 'et', 'pour', 'avec', 'est', 'une', 'des', 'du', 'nous', 'vous', 'pas'],
  es: ['el', 'la', 'los', 'las', 'y', 'para', 'con', 'es', 'una', 'del', 'que', 'por', 'nuestro'],
  pt: ['o', 'a', 'os', 'as', 'e', 'para', 'com', 'é', 'uma', 'do', 'da', 'não', 'nosso'],
  it: ['il', 'lo', 'la', 'gli', 'e', 'per', 'con', 'è', 'una', 'del', 'della', 'non', 'nostro'],
  nl: ['de', 'het', 'een', 'en', 'voor', 'met', 'is', 'niet', 'van', 'onze', 'wij'],
};

export function detectLanguage(text: string): string {
  if (/[\u3040-\u30ff]/.test(text)) return 'ja';
  if (/[\uac00-\ud7af]/.test(text)) return 'ko';
  if (/[\u4e00-\u9fff]/.test(text)) return 'zh';
  if (/[\u0400-\u04ff]/.test(text)) return 'ru';
  if (/[\u0600-\u06ff]/.test(text)) return 'ar';
  if (/[\u0590-\u05ff]/.test(text)) return 'he';
  if (/[\u0e00-\u0e7f]/.test(text)) return 'th';
  if (/[\u0370-\u03ff]/.test(text)) return 'el';
  // Whole words only: ids, hashes and PII placeholders (letters mixed with digits) say nothing about the language.
  const words = text
    .toLowerCase()
    .replace(/\[\[[^\]]*\]\]/g, ' ')
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => /^\p{L}+$/u.test(w));
  let best = 'und';
  let bestScore = 0;
  for (const [language, stops] of Object.entries(STOP_WORDS)) {
    const set = new Set(stops);
    const score = words.filter((w) => set.has(w)).length;
    if (score > bestScore) {
      best = language;
      bestScore = score;
    }
  }
  return best;
}
