import { isLuhnValid, isSpanishIdValid } from '../checksums';
import { isWordCharAt, type PiiSpan, scanCandidates } from './span';

// National-id-like numbers. Each format is specific enough (fixed grouping,
// reserved ranges, or a check digit) that ordinary numbers rarely match; bare
// nine-digit runs are deliberately not masked as SSNs.

/** US Social Security number, dashed or spaced (123-45-6789), excluding the never-issued 000/666/9xx areas, 00 group and 0000 serial. */
const usSsnPattern = /(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}/gu;

/** Canadian Social Insurance number, 123-456-782 or 123 456 782, Luhn-checked (first digit never 0 or 8). */
const caSinPattern = /[1-79]\d{2}([- ])\d{3}\1\d{3}/gu;

/** UK National Insurance number, AB 12 34 56 C or AB123456C, with the letters the format excludes left out. */
const ukNinoPattern = /(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]/gu;

/** Spanish DNI (12345678Z) and NIE (X1234567L), check letter verified. */
const esIdPattern = /(?:[XYZ]|\d)\d{7}-?[A-Z]/gu;

function detectStandalone(text: string, pattern: RegExp, isValid: (candidate: string) => boolean = () => true): PiiSpan[] {
  return scanCandidates(text, pattern, 'national_id', (candidate, start) => {
    const end = start + candidate.length;
    // Digits or letters glued to either side mean a longer token (a part number, an IBAN);
    // so does a dash that continues the grouping (1-123-45-6789-0).
    if (isWordCharAt(text, start - 1) || isWordCharAt(text, end)) return 0;
    if (/\d-$/.test(text.slice(Math.max(0, start - 2), start)) || /^-\d/.test(text.slice(end, end + 2))) return 0;
    return isValid(candidate) ? candidate.length : 0;
  });
}

export function detectNationalIds(text: string): PiiSpan[] {
  return [
    ...detectStandalone(text, usSsnPattern),
    ...detectStandalone(text, caSinPattern, isLuhnValid),
    ...detectStandalone(text, ukNinoPattern),
    ...detectStandalone(text, esIdPattern, isSpanishIdValid),
  ];
}
