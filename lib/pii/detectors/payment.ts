import { isIbanChecksumValid, isLuhnValid } from '../checksums';
import { isWordCharAt, longestValidPrefix, type PiiSpan, scanCandidates } from './span';

// Payment cards (Luhn-checked) and IBANs (mod-97 checked).

/** 13–19 digits, optionally grouped by single spaces or dashes. */
const cardPattern = /\d(?:[ -]?\d){12,18}/gu;

/** A card number: 13–19 digits that pass Luhn. */
function isCardNumber(candidate: string): boolean {
  const digits = candidate.replace(/\D/g, '');
  return digits.length >= 13 && digits.length <= 19 && isLuhnValid(digits);
}

export function detectCards(text: string): PiiSpan[] {
  return scanCandidates(text, cardPattern, 'card', (candidate, start) => {
    if (isWordCharAt(text, start - 1)) return 0;
    const length = longestValidPrefix(candidate, isCardNumber);
    return length > 0 && !isWordCharAt(text, start + length) ? length : 0;
  });
}

/**
 * IBAN lengths of the countries most traffic comes from (ISO 13616 registry);
 * other countries are accepted at any length from 15 to 34 when mod-97 holds.
 */
const ibanLengthByCountry: Readonly<Record<string, number>> = {
  AD: 24,
  AE: 23,
  AT: 20,
  BE: 16,
  BG: 22,
  CH: 21,
  CY: 28,
  CZ: 24,
  DE: 22,
  DK: 18,
  EE: 20,
  ES: 24,
  FI: 18,
  FR: 27,
  GB: 22,
  GR: 27,
  HR: 21,
  HU: 28,
  IE: 22,
  IL: 23,
  IS: 26,
  IT: 27,
  LI: 21,
  LT: 20,
  LU: 20,
  LV: 21,
  MC: 27,
  MT: 31,
  NL: 18,
  NO: 15,
  PL: 28,
  PT: 25,
  RO: 24,
  SA: 24,
  SE: 24,
  SI: 19,
  SK: 24,
  SM: 27,
  TR: 26,
};

/** Compact (DE89370400440532013000) or printed in groups of four (DE89 3704 0044 0532 0130 00); either case. */
const ibanPattern = /[A-Z]{2}\d{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?)/giu;

/** Length (in `candidate`'s characters, spaces included) of the IBAN it starts with, or 0. */
function ibanLength(candidate: string): number {
  const compactIndex: number[] = [];
  for (let i = 0; i < candidate.length; i += 1) if (candidate[i] !== ' ') compactIndex.push(i);
  const compact = candidate.replace(/ /g, '').toUpperCase();
  const known = ibanLengthByCountry[compact.slice(0, 2)];
  const lengths = known !== undefined ? [known] : Array.from({ length: Math.min(compact.length, 34) - 14 }, (_, i) => Math.min(compact.length, 34) - i);
  for (const length of lengths) {
    if (length > compact.length) continue;
    if (isIbanChecksumValid(compact.slice(0, length))) return (compactIndex[length - 1] ?? 0) + 1;
  }
  return 0;
}

export function detectIbans(text: string): PiiSpan[] {
  return scanCandidates(text, ibanPattern, 'iban', (candidate, start) => (isWordCharAt(text, start - 1) ? 0 : ibanLength(candidate)));
}
