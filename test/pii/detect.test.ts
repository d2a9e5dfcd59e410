import { detectPii, isIbanChecksumValid, isLuhnValid, isSpanishIdValid } from '../../lib/pii';
import { PiiConfig, type PiiConfigInput } from '../../schemas/validation';

/** The detected values of `text` as `kind=value`. */
function found(text: string, config: PiiConfigInput = {}): string[] {
  return detectPii(text, PiiConfig.parse(config)).map((span) => `${span.kind}=${text.slice(span.start, span.end)}`);
}

describe('detectPii finds', () => {
  it.each<[string, string, string[]]>([
    ['a plain e-mail', 'write to jane.doe@example.com today', ['email=jane.doe@example.com']],
    ['an e-mail with a tag and subdomains', 'cc: ops+alerts@mail.eu.example.co.uk.', ['email=ops+alerts@mail.eu.example.co.uk']],
    ['an internationalised e-mail', 'an jürgen@müller.de schreiben', ['email=jürgen@müller.de']],
    ['an international phone', 'call +1 (555) 123-4567 now', ['phone=+1 (555) 123-4567']],
    ['a phone with 00 prefix', 'Tel. 0049 30 12345678', ['phone=0049 30 12345678']],
    ['a German landline', 'Tel.: 030 1234567', ['phone=030 1234567']],
    ['a US number with area code', '(555) 123-4567', ['phone=(555) 123-4567']],
    ['a dotted US number', 'fax 555.123.4567', ['phone=555.123.4567']],
    ['a French number', 'appelez le 01 23 45 67 89', ['phone=01 23 45 67 89']],
    ['a bare UK mobile', 'text 07700900123', ['phone=07700900123']],
    ['a phone followed by a count', 'call 555-123-4567 2 times', ['phone=555-123-4567']],
    ['a Visa card in groups', 'card 4111 1111 1111 1111 exp 12/29', ['card=4111 1111 1111 1111']],
    ['a dashed Mastercard', '5555-5555-5555-4444', ['card=5555-5555-5555-4444']],
    ['a compact Amex (15 digits)', 'amex 378282246310005.', ['card=378282246310005']],
    ['a printed IBAN', 'IBAN: DE89 3704 0044 0532 0130 00, thanks', ['iban=DE89 3704 0044 0532 0130 00']],
    ['a compact IBAN followed by a word', 'GB82WEST12345698765432 BANK', ['iban=GB82WEST12345698765432']],
    ['a lower-case IBAN', 'nl91abna0417164300', ['iban=nl91abna0417164300']],
    ['an IPv4 address at the end of a sentence', 'from 192.168.1.10.', ['ip=192.168.1.10']],
    ['a full IPv6 address', 'src 2001:0db8:85a3:0000:0000:8a2e:0370:7334', ['ip=2001:0db8:85a3:0000:0000:8a2e:0370:7334']],
    ['a compressed IPv6 address', 'src 2001:db8:85a3::8a2e:370:7334 dst', ['ip=2001:db8:85a3::8a2e:370:7334']],
    ['an IPv4-mapped IPv6 address', 'peer ::ffff:192.0.2.128', ['ip=::ffff:192.0.2.128']],
    ['a US SSN', 'SSN 123-45-6789', ['national_id=123-45-6789']],
    ['a Canadian SIN', 'SIN 130 692 544', ['national_id=130 692 544']],
    ['a UK National Insurance number', 'NI AB 12 34 56 C', ['national_id=AB 12 34 56 C']],
    ['a Spanish DNI and NIE', 'DNI 12345678Z, NIE X1234567L', ['national_id=12345678Z', 'national_id=X1234567L']],
    ['several kinds in order', 'a@b.io, 10.0.0.1, 123-45-6789', ['email=a@b.io', 'ip=10.0.0.1', 'national_id=123-45-6789']],
  ])('%s', (_name, text, expected) => {
    expect(found(text)).toEqual(expected);
  });
});

describe('detectPii leaves alone', () => {
  it.each<[string, string]>([
    ['years and prices', 'In 2024 it cost 1999 euros, up from 1499.'],
    ['short and local numbers', 'order 1234567, room 42, pin 0000'],
    ['dates and times', 'on 2024-01-15 at 12:30:45, or 15.01.2024'],
    ['a Unix timestamp', 'created at 1700000000'],
    ['a card number failing Luhn', 'card 4111 1111 1111 1112'],
    ['an IBAN failing mod-97', 'DE89 3704 0044 0532 0130 01'],
    ['a version number', 'upgrade to 1.2.3.4.5'],
    ['an out-of-range IPv4', 'not an address: 256.1.1.1'],
    ['C++ scopes and short IPv6', 'std::vector, a::b, ::1 and fe80::1'],
    ['a MAC address', '00:1A:2B:3C:4D:5E'],
    ['an SSN with a never-issued area', '666-12-3456 and 000-12-3456'],
    ['a bare nine-digit number', 'ticket 123456789'],
    ['a Spanish DNI with the wrong letter', '12345678A'],
    ['an e-mail-like handle without a domain', 'ping @jane or jane@localhost'],
  ])('%s', (_name, text) => {
    expect(found(text)).toEqual([]);
  });
});

describe('detectPii configuration', () => {
  it('runs only the configured kinds', () => {
    expect(found('a@b.io 10.0.0.1', { kinds: ['ip'] })).toEqual(['ip=10.0.0.1']);
  });

  it('adds custom patterns, which win over built-ins', () => {
    const config: PiiConfigInput = {
      custom: [
        { name: 'employee_id', pattern: 'EMP-\\d{6}' },
        { name: 'ticket', pattern: 'tkt-[a-z]+', flags: 'i' },
      ],
    };
    expect(found('EMP-123456 filed TKT-Abc from 10.0.0.1', config)).toEqual(['employee_id=EMP-123456', 'ticket=TKT-Abc', 'ip=10.0.0.1']);
    expect(found('ref 555-123-4567', { custom: [{ name: 'ref', pattern: '\\d{3}-\\d{3}-\\d{4}' }] })).toEqual(['ref=555-123-4567']);
  });

  it.each([
    [{ name: 'bad', pattern: '(' }, 'not a valid regular expression'],
    [{ name: 'empty', pattern: 'x*' }, 'must not match the empty string'],
    [{ name: '1abc', pattern: 'x' }, 'a letter, then'],
    [{ name: 'flags', pattern: 'x', flags: 'g' }, 'flags from imsuv'],
  ])('rejects custom pattern %j at config parse', (custom, message) => {
    const result = PiiConfig.safeParse({ custom: [custom] });
    expect(result.success ? '' : result.error.issues.map((issue) => issue.message).join('; ')).toContain(message);
  });
});

describe('checksums', () => {
  it.each([
    ['4111111111111111', true],
    ['4111111111111112', false],
    ['79927398713', true],
    ['', false],
  ])('Luhn %j → %s', (digits, valid) => expect(isLuhnValid(digits)).toBe(valid));

  it.each([
    ['DE89370400440532013000', true],
    ['GB82 WEST 1234 5698 7654 32', true],
    ['GB82WEST12345698765433', false],
    ['XX00', false],
  ])('IBAN %j → %s', (iban, valid) => expect(isIbanChecksumValid(iban)).toBe(valid));

  it.each([
    ['12345678Z', true],
    ['X1234567L', true],
    ['Y1234567X', true],
    ['12345678A', false],
  ])('Spanish id %j → %s', (id, valid) => expect(isSpanishIdValid(id)).toBe(valid));
});
