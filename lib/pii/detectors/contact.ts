import { isWordCharAt, longestValidPrefix, type PiiSpan, scanCandidates } from './span';

// E-mail addresses and phone numbers.

/**
 * Local part, @, labels, a letter-only top-level domain; Unicode letters
 * allowed (internationalised addresses). Matches may only start where a run
 * of address characters starts (the look-behind), which keeps long runs
 * without an @ linear instead of quadratic; leading dots are matched, then
 * trimmed, since a local part cannot start with one.
 */
const emailPattern =
  /(?<![\p{L}\p{N}._%+-])\.*[\p{L}\p{N}_%+-][\p{L}\p{N}._%+-]*@[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?(?:\.[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?)*\.\p{L}{2,}/gu;

export function detectEmails(text: string): PiiSpan[] {
  return scanCandidates(text, emailPattern, 'email', (candidate) => candidate.length).map((span) => {
    let start = span.start;
    while (text[start] === '.') start += 1;
    return { ...span, start };
  });
}

/**
 * Digits with optional international prefix (+ or 00), parenthesised area
 * codes and single separators (space . - /). The greedy run is then judged
 * by `isPhoneNumber`.
 */
const phonePattern = /(?:\+|\b00)?(?:\(\d{1,5}\)|\d)(?:\d|[ .\-/]?\(\d{1,5}\)|[ .\-/]\d)*/gu;

/**
 * International (+49…, 0049…): 8–15 digits after the prefix (E.164 allows 15).
 * National, written with separators or an area code in parentheses: 9–12
 * digits ("030 1234567", "(555) 123-4567", "06-12345678", "612 345 678").
 * National, bare: 10–11 digits, not a 10-digit number starting with 1 (no
 * such North American number exists, while Unix timestamps look like that).
 * Shorter runs (years, prices, 7-digit local numbers, dates) are left alone,
 * the last group has at least two digits (numbers do not end in "… 2"), and
 * the SSN shape ddd-dd-dddd is left to the national-id detector.
 */
function isPhoneNumber(candidate: string): boolean {
  // The SSN shape (ddd-dd-dddd) is never a phone number; national-id decides about it.
  if (/\D\d$/.test(candidate) || /^\d{3}-\d{2}-\d{4}$/.test(candidate)) return false;
  const international = /^(\+|00)/.test(candidate);
  const digits = candidate.replace(/\D/g, '').slice(candidate.startsWith('00') ? 2 : 0);
  if (international) return digits.length >= 8 && digits.length <= 15;
  const grouped = /[ .\-/()]/.test(candidate);
  if (grouped) return digits.length >= 9 && digits.length <= 12;
  if (digits.length === 10) return !digits.startsWith('1');
  return digits.length === 11;
}

export function detectPhones(text: string): PiiSpan[] {
  return scanCandidates(text, phonePattern, 'phone', (candidate, start) => {
    const before = text[start - 1] ?? '';
    // Inside a word, an e-mail, a decimal or a longer token: not a phone number.
    if (isWordCharAt(text, start - 1) || /[+@/.\-]/.test(before)) return 0;
    // Over 15 digits is a card or account number, never a phone: mask all or nothing.
    if (candidate.replace(/\D/g, '').length > 15) return 0;
    const length = longestValidPrefix(candidate, isPhoneNumber);
    return length > 0 && !isWordCharAt(text, start + length) ? length : 0;
  });
}
