import type { CustomPiiPattern, PiiConfig, PiiKind } from '../../schemas/validation';
import { detectEmails, detectPhones } from './detectors/contact';
import { detectNationalIds } from './detectors/national-id';
import { detectIpv4, detectIpv6 } from './detectors/network';
import { detectCards, detectIbans } from './detectors/payment';
import { type PiiSpan, scanCandidates } from './detectors/span';

export type { PiiSpan } from './detectors/span';

/**
 * Built-in detectors in order of precedence when matches overlap: the most
 * specific or checksum-verified formats first, phone numbers (the loosest)
 * last, so "123-45-6789" is an SSN and an IBAN's digits are not a card.
 */
const builtInDetectors: ReadonlyArray<readonly [PiiKind, (text: string) => PiiSpan[]]> = [
  ['email', detectEmails],
  ['iban', detectIbans],
  ['card', detectCards],
  ['national_id', detectNationalIds],
  // IPv6 first: an IPv4-mapped address (::ffff:192.0.2.1) is one value.
  ['ip', (text) => [...detectIpv6(text), ...detectIpv4(text)]],
  ['phone', detectPhones],
];

function detectCustom(text: string, custom: CustomPiiPattern): PiiSpan[] {
  const regex = new RegExp(custom.pattern, `${custom.flags ?? ''}g`);
  return scanCandidates(text, regex, custom.name, (candidate) => candidate.length);
}

/**
 * Every PII value in `text`, without overlaps, ordered by position. Custom
 * patterns win over built-ins (the operator said so explicitly); among
 * built-ins the order above decides; within one detector the earlier match wins.
 */
export function detectPii(text: string, config: Pick<PiiConfig, 'kinds' | 'custom'>): PiiSpan[] {
  const enabled = new Set(config.kinds);
  const byPrecedence = [
    ...config.custom.map((custom) => detectCustom(text, custom)),
    ...builtInDetectors.filter(([kind]) => enabled.has(kind)).map(([, detect]) => detect(text)),
  ];
  // Kept sorted by start, so each overlap check looks at two neighbours only.
  const taken: PiiSpan[] = [];
  for (const spans of byPrecedence) {
    for (const span of spans) {
      let low = 0;
      let high = taken.length;
      while (low < high) {
        const mid = (low + high) >> 1;
        if ((taken[mid]?.start ?? 0) < span.start) low = mid + 1;
        else high = mid;
      }
      const before = taken[low - 1];
      const after = taken[low];
      if ((before && before.end > span.start) || (after && after.start < span.end)) continue;
      taken.splice(low, 0, span);
    }
  }
  return taken;
}
