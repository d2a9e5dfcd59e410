import type { RateLimitSnapshot } from '../../schemas/call-event';

/** Reads a header from a fetch `Headers` or a plain record. */
export type HeaderSource = { get(name: string): string | null } | Record<string, string | undefined> | undefined | null;

function readHeader(headers: HeaderSource, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  const record = headers as Record<string, string | undefined>;
  return record[name] ?? record[name.toLowerCase()];
}

/**
 * OpenAI's reset durations look like `1s`, `6m0s`, `1h2m3.5s`, `120ms`;
 * returns milliseconds, or undefined when unparseable.
 */
export function parseVendorDurationMs(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const pattern = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  let total = 0;
  let matched = '';
  for (const match of trimmed.matchAll(pattern)) {
    const amount = Number(match[1]);
    const unit = match[2];
    total += unit === 'ms' ? amount : unit === 's' ? amount * 1000 : unit === 'm' ? amount * 60_000 : amount * 3_600_000;
    matched += match[0];
  }
  return matched.length > 0 && matched.length === trimmed.length ? Math.round(total) : undefined;
}

/** `retry-after-ms`, else `retry-after` in seconds or as an HTTP date; ms from `nowMs`. */
export function parseRetryAfterMs(headers: HeaderSource, nowMs: number): number | undefined {
  const ms = readHeader(headers, 'retry-after-ms');
  if (ms && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const value = readHeader(headers, 'retry-after');
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.max(0, Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

const int = (value: string | undefined) => (value !== undefined && /^\d+$/.test(value.trim()) ? Number(value) : undefined);

/** Anthropic's resets are RFC 3339 instants. */
function msUntil(value: string | undefined, nowMs: number): number | undefined {
  if (!value) return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** The vendor's rate-limit headers, normalised; fields the vendor did not send stay undefined. */
export function readRateLimit(protocol: 'openai' | 'anthropic', headers: HeaderSource, nowMs: number): RateLimitSnapshot | undefined {
  const snapshot: RateLimitSnapshot =
    protocol === 'openai'
      ? {
          limitRequests: int(readHeader(headers, 'x-ratelimit-limit-requests')),
          remainingRequests: int(readHeader(headers, 'x-ratelimit-remaining-requests')),
          resetRequestsMs: parseVendorDurationMs(readHeader(headers, 'x-ratelimit-reset-requests')),
          limitTokens: int(readHeader(headers, 'x-ratelimit-limit-tokens')),
          remainingTokens: int(readHeader(headers, 'x-ratelimit-remaining-tokens')),
          resetTokensMs: parseVendorDurationMs(readHeader(headers, 'x-ratelimit-reset-tokens')),
        }
      : {
          limitRequests: int(readHeader(headers, 'anthropic-ratelimit-requests-limit')),
          remainingRequests: int(readHeader(headers, 'anthropic-ratelimit-requests-remaining')),
          resetRequestsMs: msUntil(readHeader(headers, 'anthropic-ratelimit-requests-reset'), nowMs),
          limitTokens: int(readHeader(headers, 'anthropic-ratelimit-tokens-limit')),
          remainingTokens: int(readHeader(headers, 'anthropic-ratelimit-tokens-remaining')),
          resetTokensMs: msUntil(readHeader(headers, 'anthropic-ratelimit-tokens-reset'), nowMs),
        };
  const present = Object.fromEntries(Object.entries(snapshot).filter(([, v]) => v !== undefined));
  return Object.keys(present).length > 0 ? (present as RateLimitSnapshot) : undefined;
}
