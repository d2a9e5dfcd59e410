/**
 * Admission decisions as a pure function of (state, limits, now): token
 * buckets for requests/min and tokens/min, leases for in-flight requests, and
 * "strikes" (rejections of requests that came back before the retry-after
 * they were given, halving each minute) that tighten the limits of a subject
 * that keeps hammering — a client that honours retry-after never strikes. The gateway stores the state in NATS KV
 * and applies this with compare-and-set, so every pod sees one bucket.
 */
import { z } from 'zod';
import type { AdmissionLimits } from '../../schemas/gateway';

const Bucket = z.object({ level: z.number(), at: z.number() });

export const LimiterState = z.object({
  requests: Bucket.optional(),
  tokens: Bucket.optional(),
  /** lease id → epoch ms after which it is void (a pod that died mid-request). */
  leases: z.record(z.string(), z.number()).default({}),
  strikes: z.number().nonnegative().default(0),
  strikesAt: z.number().default(0),
  /** Epoch ms before which the last rejection told the subject not to come back (its retry-after). */
  notBefore: z.number().optional(),
});
export type LimiterState = z.infer<typeof LimiterState>;

const MINUTE_MS = 60_000;
/** Strikes halve every minute: trust returns once the hammering stops. */
const STRIKE_HALF_LIFE_MS = 60_000;

export interface AdmissionAsk {
  now: number;
  leaseId: string;
  leaseUntil: number;
  /** Estimated tokens of the request (prompt + completion budget). */
  tokens: number;
  /** Decayed strikes at or above this halve the limits. */
  abuseStrikes: number;
  /** Whether a rejection may count as a strike. Default true; false for a queued request's retries (waiting is not hammering). */
  strike?: boolean;
}

export type AdmissionDecision =
  | { admitted: true; state: LimiterState }
  | {
      admitted: false;
      state: LimiterState;
      retryAfterMs: number;
      reason: 'requests_per_minute' | 'tokens_per_minute' | 'concurrent' | 'request_too_large';
      tightened: boolean;
    };

function refill(bucket: { level: number; at: number } | undefined, perMinute: number, now: number): number {
  if (!bucket) return perMinute;
  return Math.min(perMinute, bucket.level + ((now - bucket.at) * perMinute) / MINUTE_MS);
}

function decayedStrikes(state: LimiterState, now: number): number {
  return state.strikes * 0.5 ** (Math.max(0, now - state.strikesAt) / STRIKE_HALF_LIFE_MS);
}

/** Limits after abuse tightening: halved (concurrency at least 1). */
function effectiveLimits(limits: AdmissionLimits, tightened: boolean): AdmissionLimits {
  if (!tightened) return limits;
  return {
    ...(limits.requestsPerMinute ? { requestsPerMinute: Math.max(1, Math.floor(limits.requestsPerMinute / 2)) } : {}),
    ...(limits.tokensPerMinute ? { tokensPerMinute: Math.max(1, Math.floor(limits.tokensPerMinute / 2)) } : {}),
    ...(limits.concurrent ? { concurrent: Math.max(1, Math.floor(limits.concurrent / 2)) } : {}),
  };
}

export function decideAdmission(previous: LimiterState | undefined, limits: AdmissionLimits, ask: AdmissionAsk): AdmissionDecision {
  const { now } = ask;
  const base: LimiterState = previous ?? { leases: {}, strikes: 0, strikesAt: now };
  const leases = Object.fromEntries(Object.entries(base.leases).filter(([, until]) => until > now));
  const strikes = decayedStrikes(base, now);
  const tightened = strikes >= ask.abuseStrikes;
  const eff = effectiveLimits(limits, tightened);
  // Only coming back before the last retry-after is hammering; the first refusal, and a retry on time, are not.
  const hammering = ask.strike !== false && base.notBefore !== undefined && now < base.notBefore;
  const reject = (reason: Extract<AdmissionDecision, { admitted: false }>['reason'], retryAfterMs: number): AdmissionDecision => {
    const waitMs = Math.max(1, Math.ceil(retryAfterMs));
    return {
      admitted: false,
      retryAfterMs: waitMs,
      reason,
      tightened,
      state: { ...base, leases, strikes: hammering ? strikes + 1 : strikes, strikesAt: now, notBefore: now + waitMs },
    };
  };

  if (eff.concurrent !== undefined && Object.keys(leases).length >= eff.concurrent) {
    const soonest = Math.min(...Object.values(leases));
    return reject('concurrent', Math.min(1_000, soonest - now));
  }
  let requests = base.requests;
  if (eff.requestsPerMinute !== undefined) {
    const level = refill(base.requests, eff.requestsPerMinute, now);
    if (level < 1) return reject('requests_per_minute', ((1 - level) * MINUTE_MS) / eff.requestsPerMinute);
    requests = { level: level - 1, at: now };
  }
  let tokens = base.tokens;
  if (eff.tokensPerMinute !== undefined) {
    if (ask.tokens > eff.tokensPerMinute) return reject('request_too_large', MINUTE_MS);
    const level = refill(base.tokens, eff.tokensPerMinute, now);
    if (level < ask.tokens) return reject('tokens_per_minute', ((ask.tokens - level) * MINUTE_MS) / eff.tokensPerMinute);
    tokens = { level: level - ask.tokens, at: now };
  }
  if (eff.concurrent !== undefined) leases[ask.leaseId] = ask.leaseUntil;
  return {
    admitted: true,
    state: { ...base, ...(requests ? { requests } : {}), ...(tokens ? { tokens } : {}), leases, strikes, strikesAt: now },
  };
}

/** The state with `leaseIds` held until `until`: a live request renews its short lease, so a dead pod's lapses within one TTL. */
export function renewLeases(state: LimiterState, leaseIds: readonly string[], until: number): LimiterState {
  const leases = { ...state.leases };
  for (const id of leaseIds) leases[id] = Math.max(leases[id] ?? 0, until);
  return { ...state, leases };
}

/** The state with one lease returned (the request finished). */
export function releaseLease(state: LimiterState, leaseId: string): LimiterState {
  const { [leaseId]: _released, ...leases } = state.leases;
  return { ...state, leases };
}

export interface TokenSettlement {
  now: number;
  /** What admission charged: the estimate. */
  estimated: number;
  /** What the call really used (0 for a cache hit: no vendor tokens were spent). */
  actual: number;
  abuseStrikes: number;
}

/**
 * Corrects the tokens bucket once the call's real usage is known: an
 * over-estimate is given back, an under-estimate charged — the bucket may go
 * below zero, and the subject's next requests wait until it refills. The
 * estimate stays what admission decides on (the real size is only known
 * afterwards); this keeps the per-minute budget true to what was spent.
 */
export function settleTokens(state: LimiterState, limits: AdmissionLimits, settlement: TokenSettlement): LimiterState {
  const { now } = settlement;
  const eff = effectiveLimits(limits, decayedStrikes(state, now) >= settlement.abuseStrikes);
  if (eff.tokensPerMinute === undefined || !state.tokens) return state;
  const level = refill(state.tokens, eff.tokensPerMinute, now) + settlement.estimated - settlement.actual;
  return { ...state, tokens: { level: Math.min(eff.tokensPerMinute, level), at: now } };
}
