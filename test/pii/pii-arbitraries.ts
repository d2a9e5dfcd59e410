import fc from 'fast-check';

// fast-check generators for text that mixes PII values with noise. Values are
// joined by separators that no detector reads as part of a value (", ",
// " and ", "\n", "; "), so each generated value is one detectable unit.

const digits = (count: number) => fc.array(fc.integer({ min: 0, max: 9 }), { minLength: count, maxLength: count }).map((ds) => ds.join(''));

/** A Luhn check digit for `body`. */
function luhnCheckDigit(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i += 1) {
    let digit = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return String((10 - (sum % 10)) % 10);
}

function mod97(numeric: string): number {
  let remainder = 0;
  for (const char of numeric) remainder = (remainder * 10 + Number(char)) % 97;
  return remainder;
}

export const email = fc
  .tuple(
    fc.stringMatching(/^[a-z][a-z0-9._+-]{0,10}[a-z0-9]$/),
    fc.stringMatching(/^[a-z][a-z0-9-]{0,8}[a-z0-9]$/),
    fc.constantFrom('com', 'org', 'io', 'co.uk', 'de'),
  )
  .map(([local, domain, tld]) => `${local}@${domain}.${tld}`);

export const phone = fc.oneof(
  fc.tuple(fc.integer({ min: 1, max: 99 }), digits(3), digits(3), digits(4)).map(([cc, a, b, c]) => `+${cc} ${a} ${b} ${c}`),
  fc.tuple(digits(3), digits(3), digits(4)).map(([a, b, c]) => `(${a}) ${b}-${c}`),
  fc.tuple(digits(2), digits(7)).map(([a, b]) => `0${a} ${b}`),
  fc.tuple(fc.integer({ min: 2, max: 9 }), digits(9)).map(([a, b]) => `${a}${b}`),
);

export const card = fc.tuple(fc.constantFrom('4', '51', '37'), digits(14), fc.constantFrom('', ' ', '-')).map(([prefix, body, separator]) => {
  const partial = (prefix + body).slice(0, 15);
  const number = partial + luhnCheckDigit(partial);
  return number.match(/.{1,4}/g)?.join(separator) ?? number;
});

export const iban = fc.tuple(digits(18), fc.boolean()).map(([bban, spaced]) => {
  const check = String(98 - mod97(`${bban}131400`)).padStart(2, '0');
  const compact = `DE${check}${bban}`;
  return spaced ? (compact.match(/.{1,4}/g) ?? []).join(' ') : compact;
});

export const ipv4 = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }).map((octets) => octets.join('.'));

export const ipv6 = fc.array(fc.stringMatching(/^[0-9a-f]{1,4}$/), { minLength: 8, maxLength: 8 }).map((groups) => groups.join(':'));

export const ssn = fc
  .tuple(fc.integer({ min: 1, max: 665 }), fc.integer({ min: 1, max: 99 }), fc.integer({ min: 1, max: 9999 }))
  .map(([area, group, serial]) => `${String(area).padStart(3, '0')}-${String(group).padStart(2, '0')}-${String(serial).padStart(4, '0')}`);

export const piiValue = fc.oneof(email, phone, card, iban, ipv4, ipv6, ssn);

/** Lower-case words and punctuation that no detector matches. */
export const noise = fc.stringMatching(/^[a-z]{1,10}( [a-z]{1,10}){0,4}[.!?]?$/);

const separator = fc.constantFrom(', ', ' and ', '\n', '; ', ' | ');

/** Text of noise and PII values, with the values it contains. */
export const textWithPii = fc
  .array(
    fc.oneof(
      piiValue.map((value) => ({ value })),
      noise.map((text) => ({ text })),
    ),
    { minLength: 1, maxLength: 12 },
  )
  .chain((parts) => fc.array(separator, { minLength: parts.length, maxLength: parts.length }).map((seps) => ({ parts, seps })))
  .map(({ parts, seps }) => ({
    text: parts.map((part, i) => ('value' in part ? part.value : part.text) + (seps[i] ?? '')).join(''),
    values: parts.flatMap((part) => ('value' in part ? [part.value] : [])),
  }));

/** A nonce as the workflow would pass it. */
export const nonce = fc.stringMatching(/^[a-z][a-z0-9]{3,11}$/);

/** Cut points that split `text` into chunks (some empty). */
export function chunksOf(text: string, cuts: number[]): string[] {
  const points = [...new Set(cuts.map((cut) => cut % (text.length + 1)))].sort((a, b) => a - b);
  const chunks: string[] = [];
  let previous = 0;
  for (const point of points) {
    chunks.push(text.slice(previous, point));
    previous = point;
  }
  chunks.push(text.slice(previous));
  return chunks;
}
