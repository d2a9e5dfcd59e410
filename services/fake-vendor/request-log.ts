/**
 * The vendor's view: a bounded ring of what every request looked like when it
 * arrived, with its prompt text kept for `contains` queries (tests prove that
 * masked PII never reached the vendor by asking for it here).
 */
import type { RequestLogQuery, VendorRequestRecord } from '../../schemas/fake-vendor';

/** A record as stored: the prompt text stays private unless asked for. */
export interface StoredRequest {
  record: VendorRequestRecord;
  promptText: string;
  promptTextLower: string | null;
}

export interface RequestLog {
  /** Stores the record; later changes to it (status, faults) show in queries. */
  append(record: VendorRequestRecord, promptText: string): void;
  query(filter?: Partial<RequestLogQuery>): { count: number; records: VendorRequestRecord[] };
  reset(): void;
  readonly size: number;
}

export function createRequestLog(options: { capacity: number; maxPromptChars: number }): RequestLog {
  let ring: (StoredRequest | undefined)[] = new Array<StoredRequest | undefined>(Math.min(options.capacity, 1024));
  let start = 0;
  let size = 0;

  const at = (i: number): StoredRequest | undefined => ring[(start + i) % ring.length];

  return {
    append(record, promptText) {
      const stored: StoredRequest = { record, promptText: promptText.slice(0, options.maxPromptChars), promptTextLower: null };
      if (size === ring.length && ring.length < options.capacity) {
        // Grow lazily so an idle vendor does not reserve the whole capacity.
        const grown = new Array<StoredRequest | undefined>(Math.min(options.capacity, ring.length * 2));
        for (let i = 0; i < size; i++) grown[i] = at(i);
        ring = grown;
        start = 0;
      }
      if (size < ring.length) {
        ring[(start + size) % ring.length] = stored;
        size++;
      } else {
        ring[start] = stored;
        start = (start + 1) % ring.length;
      }
    },
    query(filter = {}) {
      const needles = (filter.contains ?? []).map((c) => c.toLowerCase());
      const matches: StoredRequest[] = [];
      for (let i = 0; i < size; i++) {
        const stored = at(i);
        if (stored === undefined) continue;
        const { record } = stored;
        if (filter.organisation !== undefined && record.organisation !== filter.organisation) continue;
        if (filter.model !== undefined && record.model !== filter.model) continue;
        if (filter.since !== undefined && record.time < filter.since) continue;
        if (needles.length > 0) {
          stored.promptTextLower ??= stored.promptText.toLowerCase();
          const lower = stored.promptTextLower;
          if (!needles.every((n) => lower.includes(n))) continue;
        }
        matches.push(stored);
      }
      const kept = filter.limit !== undefined ? matches.slice(Math.max(0, matches.length - filter.limit)) : matches;
      return {
        count: matches.length,
        records: kept.map((s) => (filter.includePrompt === true ? { ...s.record, promptText: s.promptText } : { ...s.record })),
      };
    },
    reset() {
      ring = new Array<StoredRequest | undefined>(Math.min(options.capacity, 1024));
      start = 0;
      size = 0;
    },
    get size() {
      return size;
    },
  };
}
