/**
 * Admission shared by every gateway pod: each request spends the budgets of
 * its subjects (tenant, API key, client IP, user or the key's anonymous
 * caller — lib/admission/subjects.ts), whose states live in NATS KV. An
 * in-flight slot is a short lease the request renews while it lives, so the
 * slots of a pod that died free within `leaseTtlMs`. When NATS does not
 * answer, `onNatsUnavailable` decides: a per-pod limiter (open) or a 503 (closed).
 */
import { randomUUID } from 'node:crypto';
import { JSONCodec, type KV, type NatsConnection } from 'nats';
import { decideAdmission, LimiterState, releaseLease, renewLeases, settleTokens, type AdmissionDecision } from '../../lib/admission/limiter';
import { admissionSubjects, keyPart, type AdmissionSubject } from '../../lib/admission/subjects';
import type { Logger } from '../../lib/log';
import { watchNats } from '../../lib/nats/reachability';
import { openBucket } from '../../lib/nats/kv';
import type { AdmissionConfig, AdmissionLimits, Segment } from '../../schemas/gateway';
import { AdmissionContendedError, createKvStore, createLocalStore, isNatsUnavailableError, type LimiterStore, type StateChange } from './admission-store';
import { dependencyUnavailable, GatewayError } from './http-errors';

const codec = JSONCodec<unknown>();
const DAY_MS = 86_400_000;

/** Users whose first-seen time a pod keeps at most (a cache of the admission bucket's `seen.*` keys). */
const MAX_FIRST_SEEN = 100_000;

export interface AdmissionAsk {
  tenant: string;
  /** Name of the API key the request authenticated with. */
  keyName: string;
  tenantLimits?: AdmissionLimits | undefined;
  keyLimits?: AdmissionLimits | undefined;
  user: string | undefined;
  ip: string;
  /** Whether `ip` came from a trusted proxy header. */
  ipTrusted: boolean;
  estimatedTokens: number;
  /** A queued route's request: its rejections are waits, not strikes against the user. */
  queued?: boolean;
}

export interface Admitted {
  segment: Segment | 'anonymous';
  /** Returns the in-flight slots and stops renewing them. */
  release(): Promise<void>;
  /**
   * The call is over: corrects the tokens/min buckets with its real usage (the
   * admission charged its estimate) and returns the in-flight slots, in one
   * update of each subject's state.
   */
  finish(actualTokens: number): Promise<void>;
  /** True when NATS was away and this pod's own limiter admitted the request. */
  local: boolean;
}

export async function createAdmission(nats: NatsConnection, config: AdmissionConfig, log?: Logger) {
  const kv: KV = await openBucket(nats, config.bucket, { history: 1 });
  const health = watchNats(nats);
  const shared = createKvStore(kv, health, config.natsTimeoutMs);
  const local = createLocalStore();
  const firstSeen = new Map<string, number>();
  const premium = new Set(config.premiumUsers);
  const allowed = new Set(config.allowList);

  async function userSince(tenant: string, user: string, now: number): Promise<number> {
    const key = `seen.${keyPart(tenant)}.${keyPart(user)}`;
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
    // Bounded: a tenant sending a new user id with every request must not grow the pod's memory. The oldest entry
    // goes (Map order); forgetting it costs one KV read when that user comes back.
    if (firstSeen.size > MAX_FIRST_SEEN) firstSeen.delete(firstSeen.keys().next().value!);
    return since;
  }

  async function segmentOf(tenant: string, user: string, now: number): Promise<Segment> {
    const names = [user, `${tenant}/${user}`];
    if (names.some((n) => allowed.has(n))) return 'allowlisted';
    if (names.some((n) => premium.has(n))) return 'premium';
    // Without NATS a user not seen by this pod is untrusted: the strictest segment, never a wider door.
    const since = health.isDown() ? (firstSeen.get(`seen.${keyPart(tenant)}.${keyPart(user)}`) ?? now) : await userSince(tenant, user, now).catch(() => now);
    return now - since < config.untrustedDays * DAY_MS ? 'untrusted' : 'trusted';
  }

  /** Runs `change` on the shared store, or — NATS away and admission open — on this pod's. */
  async function update<T>(key: string, change: StateChange<T>, store?: LimiterStore): Promise<{ outcome: T; store: LimiterStore }> {
    try {
      if (store) return { outcome: await store.update(key, change), store };
      return { outcome: await shared.update(key, change), store: shared };
    } catch (error) {
      if (error instanceof AdmissionContendedError)
        throw new GatewayError(503, 'service_unavailable', 'admission is contended; try again', {
          code: 'admission_contended',
          headers: { 'retry-after': '1' },
        });
      if (!isNatsUnavailableError(error)) throw error;
      // Closed: a clean 503, never a 500. Open: this pod's limiter — also when NATS went away halfway through a
      // request's subjects (on a NATS cluster, a node's loss moves the bucket's leader for a few seconds): the
      // subjects already taken stay in the shared store, the rest go to this pod's, each released where it was taken.
      if (config.onNatsUnavailable === 'closed') throw dependencyUnavailable('NATS', 'the shared admission limits are out of reach', 2);
      log?.warn({ key }, "NATS unavailable: admitting with this pod's own limiter");
      return { outcome: await local.update(key, change), store: local };
    }
  }

  return {
    /** Admits the request or throws a 429 with `retry-after` (503 when NATS is away and admission is closed). */
    async admit(ask: AdmissionAsk): Promise<Admitted> {
      const leaseId = randomUUID();
      const now = Date.now();
      const segment = ask.user ? await segmentOf(ask.tenant, ask.user, now) : undefined;
      const subjects = admissionSubjects(config, { ...ask, segment });
      const taken: Array<AdmissionSubject & { store: LimiterStore }> = [];
      let store: LimiterStore | undefined;
      const releaseAll = async () => {
        clearInterval(renewal);
        await Promise.all(
          // Only subjects with an in-flight limit hold a lease.
          taken
            .filter(({ limits }) => limits.concurrent !== undefined)
            .map(({ key, store: s }) =>
              s.update(key, (state) => ({ state: state ? releaseLease(state, leaseId) : LimiterState.parse({}), outcome: undefined })).catch(() => undefined),
            ),
        );
      };
      const leased = () => taken.filter((s) => s.limits.concurrent !== undefined);
      // Renew the in-flight slots while the request lives; a pod that dies stops renewing and its slots lapse.
      const renewal = setInterval(
        () => {
          const until = Date.now() + config.leaseTtlMs;
          for (const { key, store: s } of leased())
            s.update(key, (state) => ({ state: renewLeases(state ?? LimiterState.parse({}), [leaseId], until), outcome: undefined })).catch(() => undefined);
        },
        Math.floor(config.leaseTtlMs / 3),
      );
      renewal.unref();
      try {
        for (const subject of subjects) {
          const at = Date.now();
          const decide: StateChange<AdmissionDecision> = (state) => {
            const decision = decideAdmission(state, subject.limits, {
              now: at,
              leaseId,
              leaseUntil: at + config.leaseTtlMs,
              tokens: ask.estimatedTokens,
              abuseStrikes: config.abuseRejectionsPerMinute,
              strike: !ask.queued,
            });
            return { state: decision.state, outcome: decision };
          };
          // Every subject of one request goes to the same store — all shared, or (NATS away) all this pod's — except
          // when NATS goes away halfway: then the remaining subjects go to this pod's.
          const result = await update(subject.key, decide, store);
          store = result.store;
          const decision = result.outcome;
          if (!decision.admitted) {
            const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
            throw new GatewayError(
              429,
              'rate_limit_error',
              `rate limit of this ${subject.what} reached (${decision.reason.replaceAll('_', ' ')}${decision.tightened ? ', tightened after repeated rejections' : ''}); retry after ${seconds} s`,
              {
                code: decision.reason,
                headers: { 'retry-after': String(seconds), 'retry-after-ms': String(decision.retryAfterMs) },
              },
            );
          }
          taken.push({ ...subject, store: store });
        }
      } catch (error) {
        // Earlier subjects keep the rate they spent (never over-admits), but give back their in-flight slot.
        await releaseAll();
        throw error;
      }
      const finish = async (actualTokens: number) => {
        clearInterval(renewal);
        const settlement = { estimated: ask.estimatedTokens, actual: actualTokens, abuseStrikes: config.abuseRejectionsPerMinute };
        const settles = (limits: AdmissionLimits) => limits.tokensPerMinute !== undefined && actualTokens !== ask.estimatedTokens;
        const leases = (limits: AdmissionLimits) => limits.concurrent !== undefined;
        await Promise.all(
          taken
            .filter(({ limits }) => settles(limits) || leases(limits))
            .map(({ key, limits, store: s }) =>
              s.update(key, (state) => {
                if (!state) return { state: LimiterState.parse({}), outcome: undefined };
                const settled = settles(limits) ? settleTokens(state, limits, { ...settlement, now: Date.now() }) : state;
                return { state: leases(limits) ? releaseLease(settled, leaseId) : settled, outcome: undefined };
              }),
            ),
        );
      };
      return { segment: segment ?? 'anonymous', release: releaseAll, finish, local: store === local };
    },
  };
}
export type Admission = Awaited<ReturnType<typeof createAdmission>>;

/** Tokens a request may cost before it runs: its text at ~4 characters a token, plus its completion budget. */
export function estimateTokens(chars: number, maxTokens: number | undefined): number {
  return Math.ceil(chars / 4) + (maxTokens ?? 256);
}
