/**
 * Admission shared by every gateway pod: limiter states live in one NATS KV
 * bucket and every change is a compare-and-set on the key's revision, so two
 * pods racing for a user's last request cannot both win. Subjects: the user
 * (limits of their segment) and the client IP.
 */
import { randomUUID } from 'node:crypto';
import { JSONCodec, type KV, type NatsConnection } from 'nats';
import { decideAdmission, LimiterState, releaseLease, settleTokens, type AdmissionDecision } from '../../lib/admission/limiter';
import type { AdmissionConfig, AdmissionLimits, Segment } from '../../schemas/gateway';
import { GatewayError } from './http-errors';

const codec = JSONCodec<unknown>();
const MAX_CAS_ROUNDS = 50;
const DAY_MS = 86_400_000;

export interface AdmissionAsk {
  tenant: string;
  user: string | undefined;
  ip: string;
  estimatedTokens: number;
  /** How long the request may hold its in-flight slot at most. */
  holdMs: number;
  /** A queued route's request: its rejections are waits, not strikes against the user. */
  queued?: boolean;
}

export interface Admitted {
  segment: Segment | 'anonymous';
  release(): Promise<void>;
  /** Corrects the tokens/min buckets with the call's real usage (the admission charged its estimate). */
  settle(actualTokens: number): Promise<void>;
}

const keyPart = (value: string) => Buffer.from(value, 'utf8').toString('base64url') || '_';

export async function createAdmission(nats: NatsConnection, config: AdmissionConfig) {
  const kv: KV = await nats.jetstream().views.kv(config.bucket, { history: 1 });
  const firstSeen = new Map<string, number>();
  const premium = new Set(config.premiumUsers);
  const allowed = new Set(config.allowList);

  async function userSince(tenant: string, user: string, now: number): Promise<number> {
    const key = `seen.${tenant}.${keyPart(user)}`;
    const cached = firstSeen.get(key);
    if (cached !== undefined) return cached;
    let since = now;
    try {
      await kv.create(key, codec.encode(now));
    } catch {
      // Another pod (or an earlier run) saw them first: theirs stands.
      const entry = await kv.get(key);
      if (entry && entry.operation === 'PUT') since = Number(codec.decode(entry.value));
    }
    firstSeen.set(key, since);
    return since;
  }

  async function segmentOf(tenant: string, user: string, now: number): Promise<Segment> {
    const names = [user, `${tenant}/${user}`];
    if (names.some((n) => allowed.has(n))) return 'allowlisted';
    if (names.some((n) => premium.has(n))) return 'premium';
    const since = await userSince(tenant, user, now);
    return now - since < config.untrustedDays * DAY_MS ? 'untrusted' : 'trusted';
  }

  /** Applies `change` to the key's state with compare-and-set, retrying when another pod wrote first. */
  async function casUpdate<T>(key: string, change: (state: LimiterState | undefined) => { state: LimiterState; outcome: T }): Promise<T> {
    for (let round = 0; round < MAX_CAS_ROUNDS; round++) {
      const entry = await kv.get(key);
      const current = entry && entry.operation === 'PUT' ? LimiterState.parse(codec.decode(entry.value)) : undefined;
      const { state, outcome } = change(current);
      try {
        if (entry) await kv.update(key, codec.encode(state), entry.revision);
        else await kv.create(key, codec.encode(state));
        return outcome;
      } catch {
        // Lost the race: read the winner's state and decide again.
      }
    }
    throw new GatewayError(503, 'service_unavailable', 'admission is contended; try again', { headers: { 'retry-after': '1' } });
  }

  async function take(key: string, limits: AdmissionLimits, leaseId: string, ask: AdmissionAsk): Promise<AdmissionDecision> {
    const now = Date.now();
    return casUpdate(key, (state) => {
      const decision = decideAdmission(state, limits, { now, leaseId, leaseUntil: now + ask.holdMs, tokens: ask.estimatedTokens, abuseStrikes: config.abuseRejectionsPerMinute, strike: !ask.queued });
      return { state: decision.state, outcome: decision };
    });
  }

  async function release(key: string, leaseId: string): Promise<void> {
    await casUpdate(key, (state) => ({ state: state ? releaseLease(state, leaseId) : LimiterState.parse({}), outcome: undefined }));
  }

  return {
    /** Admits the request or throws a 429 with `retry-after`. */
    async admit(ask: AdmissionAsk): Promise<Admitted> {
      const leaseId = randomUUID();
      const subjects: Array<{ key: string; limits: AdmissionLimits; what: string }> = [];
      let segment: Admitted['segment'] = 'anonymous';
      if (Object.keys(config.perIp).length) subjects.push({ key: `ip.${keyPart(ask.ip)}`, limits: config.perIp, what: 'client IP' });
      if (ask.user) {
        segment = await segmentOf(ask.tenant, ask.user, Date.now());
        if (segment !== 'allowlisted') subjects.push({ key: `u.${ask.tenant}.${keyPart(ask.user)}`, limits: config.segments[segment], what: `user (${segment})` });
      }
      const taken: Array<{ key: string; limits: AdmissionLimits }> = [];
      const releaseAll = () => Promise.all(taken.map(({ key }) => release(key, leaseId).catch(() => undefined))).then(() => undefined);
      for (const subject of subjects) {
        const decision = await take(subject.key, subject.limits, leaseId, ask);
        if (!decision.admitted) {
          // Earlier subjects keep the rate they spent (never over-admits), but give back their in-flight slot.
          await releaseAll();
          const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
          throw new GatewayError(429, 'rate_limit_error', `rate limit of this ${subject.what} reached (${decision.reason.replaceAll('_', ' ')}${decision.tightened ? ', tightened after repeated rejections' : ''}); retry after ${seconds} s`, {
            code: decision.reason,
            headers: { 'retry-after': String(seconds), 'retry-after-ms': String(decision.retryAfterMs) },
          });
        }
        taken.push(subject);
      }
      const settle = async (actualTokens: number) => {
        if (actualTokens === ask.estimatedTokens) return;
        const settlement = { estimated: ask.estimatedTokens, actual: actualTokens, abuseStrikes: config.abuseRejectionsPerMinute };
        await Promise.all(
          taken
            .filter(({ limits }) => limits.tokensPerMinute !== undefined)
            .map(({ key, limits }) => casUpdate(key, (state) => ({ state: state ? settleTokens(state, limits, { ...settlement, now: Date.now() }) : LimiterState.parse({}), outcome: undefined }))),
        );
      };
      return { segment, release: releaseAll, settle };
    },
  };
}
export type Admission = Awaited<ReturnType<typeof createAdmission>>;

/** Tokens a request may cost before it runs: its text at ~4 characters a token, plus its completion budget. */
export function estimateTokens(chars: number, maxTokens: number | undefined): number {
  return Math.ceil(chars / 4) + (maxTokens ?? 256);
}
