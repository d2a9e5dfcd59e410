import { isWordCharAt, type PiiSpan, scanCandidates } from './span';

// IPv4 and IPv6 addresses.

const octet = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
/** Four octets 0–255; not part of a longer dotted number ("1.2.3.4.5" is a version, not an address). */
const ipv4Pattern = new RegExp(`(?<![\\p{N}.])(?:${octet}\\.){3}${octet}(?![\\p{N}]|\\.\\p{N})`, 'gu');

export function detectIpv4(text: string): PiiSpan[] {
  return scanCandidates(text, ipv4Pattern, 'ip', (candidate, start) => (isWordCharAt(text, start - 1) ? 0 : candidate.length));
}

const ipv4Tail = new RegExp(`^(?:${octet}\\.){3}${octet}$`, 'u');

/**
 * RFC 4291 text forms: eight groups of 1–4 hex digits, or fewer around one
 * `::`, optionally ending in an embedded IPv4 address. Short compressed forms
 * with under three groups (`::1`, `fe80::1`) are not masked: they identify no
 * one, and `a::b` shows up in code.
 */
function isIpv6Address(candidate: string): boolean {
  const halves = candidate.split('::');
  if (halves.length > 2) return false;
  const groups = halves.flatMap((half) => (half === '' ? [] : half.split(':')));
  let count = 0;
  for (const [index, group] of groups.entries()) {
    if (index === groups.length - 1 && group.includes('.')) {
      if (!ipv4Tail.test(group)) return false;
      count += 2;
    } else if (/^[0-9A-Fa-f]{1,4}$/.test(group)) {
      count += 1;
    } else {
      return false;
    }
  }
  return halves.length === 2 ? count >= 3 && count <= 7 : count === 8;
}

const ipv6Pattern = /(?<![\p{L}\p{N}_:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?/gu;

export function detectIpv6(text: string): PiiSpan[] {
  return scanCandidates(text, ipv6Pattern, 'ip', (candidate, start) => {
    // A trailing single colon belongs to the sentence ("from fe80:…:1: it failed").
    const trimmed = candidate.endsWith(':') && !candidate.endsWith('::') ? candidate.slice(0, -1) : candidate;
    const next = text[start + trimmed.length] ?? '';
    if (isWordCharAt(text, start + trimmed.length) && /[0-9A-Za-z]/.test(next)) return 0;
    return isIpv6Address(trimmed) ? trimmed.length : 0;
  });
}
