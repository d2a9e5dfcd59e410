// Check-digit algorithms that turn "looks like a number" into "is one":
// masking a random 16-digit order number would cost answer quality for nothing.

/** Luhn (mod 10) over the digits of `digits` (other characters ignored): payment cards, Canadian SINs. */
export function isLuhnValid(digits: string): boolean {
  const clean = digits.replace(/\D/g, '');
  if (clean.length === 0) return false;
  let sum = 0;
  for (let i = 0; i < clean.length; i += 1) {
    let digit = Number(clean[clean.length - 1 - i]);
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

/** ISO 13616 IBAN check: country + check digits moved to the end, letters as 10–35, the number mod 97 must be 1. */
export function isIbanChecksumValid(iban: string): boolean {
  const compact = iban.replace(/\s/g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(compact)) return false;
  const rearranged = compact.slice(4) + compact.slice(0, 4);
  let remainder = 0;
  for (const char of rearranged) {
    const value = char >= 'A' ? char.charCodeAt(0) - 55 : Number(char);
    // Two-digit letter values shift the remainder by 100, digits by 10; stays far below 2^53.
    remainder = (remainder * (value >= 10 ? 100 : 10) + value) % 97;
  }
  return remainder === 1;
}

const dniLetters = 'TRWAGMYFPDXBNJZSQVHLCKE';

/** Spanish DNI (8 digits + letter) and NIE (X/Y/Z + 7 digits + letter): the letter is the number mod 23. */
export function isSpanishIdValid(id: string): boolean {
  const compact = id.replace(/-/g, '').toUpperCase();
  const match = /^([XYZ]|\d)(\d{7})([A-Z])$/.exec(compact);
  if (!match) return false;
  const [, lead = '', rest = '', letter] = match;
  const number = Number(('XYZ'.includes(lead) ? String('XYZ'.indexOf(lead)) : lead) + rest);
  return dniLetters[number % 23] === letter;
}
