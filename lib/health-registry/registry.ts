/**
 * The health registry of one worker: a projection of the CallEvents in
 * `SB_CALLS` (replayed over the window at start, then live) plus a local copy
 * of KV `sb_breakers`, so a pick needs no network round trip. Live events go
 * through the pure trip policy; a trip is handed to `signalTrip` (the
 * worker sends it to the upstream's breakerSupervisor). See docs/breakers.md.
 */
import { JSONCodec, type KV, type NatsConnection, type Subscription } from 'nats';
import { decodeJson } from '../nats/json-payload';
import {
  breakerKeyOf,
  breakerKeyOfSignal,
  breakerKeyOfState,
  clearUpstreamHealth,
  effectiveBreaker,
  emptyHealth,
  evaluateTrip,
  foldCallEvent,
  type HealthState,
  isRateLimitClass,
  isTripActionable,
  mayEjectForRateLimit,
  upstreamHealth,
  modelOfKey,
  upstreamOfKey,
} from '../health';
import type { Logger } from '../log';
import { openBucket } from '../nats/kv';
import { streams } from '../nats/streams';
import { CallEvent } from '../../schemas/call-event';
import { upstreamId, type SwitchboardConfig } from '../../schemas/config';
import { BreakerState, type TripSignal, type UpstreamHealth } from '../../schemas/health';
import { breakerBucket } from '../../contracts/names';
import { breakerTargetsOf } from './breaker-targets';
import { followCallEvents } from './call-event-follower';
import { healthViewSubject, type HealthViewReply } from './health-view';

export interface HealthRegistryOptions {
  nats: NatsConnection;
  config: SwitchboardConfig;
  /** Breaker cluster (see contracts/names.ts); default none. */
  cluster?: string;
  /** Called for each actionable trip; default: none (an observer such as the CLI). */
  signalTrip?: (signal: TripSignal) => Promise<void>;
  /** Name this registry answers health-view requests with; default: no answering. */
  answerAs?: string;
  log: Logger;
}

/** What selection and the CLI read; every call is local. */
export interface HealthView {
  /** Every breaker by key (docs/breakers.md): the upstreams' own and their models'. */
  breakers(): ReadonlyMap<string, BreakerState>;
  /** The breaker a pick of `model` on `upstream` obeys: the stricter of the upstream's and the model's. */
  breakerFor(upstream: string, model: string): BreakerState | undefined;
  /** Health of `upstream` for `model` (the fold keeps one window per pair). */
  healthOf(upstream: string, model: string, now: number): UpstreamHealth;
  /** Health by breaker key, for every (upstream, model) seen in the window. */
  healthByKey(now: number): Map<string, UpstreamHealth>;
  /** Upstream ids of the provider's pool (config order). */
  poolOf(provider: string): readonly string[];
}

export interface HealthRegistry extends HealthView {
  /** For a config reload: returns what switches the pools and policies (events of new upstreams are folded from then on). */
  prepareReconfigure(config: SwitchboardConfig): () => void;
  /** Events folded so far (replay included). */
  folded(): number;
  /** True once the replay of the window has caught up with the stream as it was at start. */
  replayed(): boolean;
  close(): Promise<void>;
}

const codec = JSONCodec<unknown>();
/** How long a pod trusts its own trip decision while the supervisor has not answered; then KV wins again. */
const PROVISIONAL_MS = 15_000;
const RESIGNAL_MS = 1_000;
const REPLAY_SILENCE_MS = 2_000;

/** Starts the registry: loads the breakers, replays the window, then follows live events. */
export async function startHealthRegistry(options: HealthRegistryOptions): Promise<HealthRegistry> {
  const { nats, cluster, log } = options;
  // Swapped whole by a config reload (prepareReconfigure).
  let config = options.config;
  let policy = config.health;
  let pools = poolsOf(config);
  let known = new Set([...pools.values()].flat());
  const breakers = new Map<string, BreakerState>();
  // When and at which breaker revision each upstream was last signalled: one signal per state per
  // second is enough (duplicates are harmless but cost a workflow task each).
  const signalled = new Map<string, { revision: number; at: number }>();
  // Trips this pod decided but the supervisor has not confirmed yet: picks treat them as open at once,
  // so the pod stops sending to a sick upstream without waiting for the KV round trip.
  const provisional = new Map<string, { state: BreakerState; until: number }>();
  let state: HealthState = emptyHealth();
  let folded = 0;

  const applyBreaker = (breaker: BreakerState) => {
    const key = breakerKeyOfState(breaker);
    const prev = breakers.get(key);
    if (prev && prev.revision > breaker.revision) return;
    breakers.set(key, breaker);
    provisional.delete(key);
    // Failures that opened the breaker must not trip it again once it is half-open or closed.
    if (breaker.state === 'half_open' || breaker.state === 'closed') state = clearUpstreamHealth(state, key, breaker.since, policy);
  };

  const kv: KV = await openBucket(nats, breakerBucket(cluster));
  let initialised!: () => void;
  const loaded = new Promise<void>((resolve) => (initialised = resolve));
  const watcher = await kv.watch({ initializedFn: () => initialised() });
  void (async () => {
    for await (const entry of watcher) {
      if (entry.operation !== 'PUT') continue;
      const parsed = BreakerState.safeParse(decodeJson(entry.value));
      if (parsed.success) applyBreaker(parsed.data);
      else log.warn({ key: entry.key }, 'ignoring a breaker state that does not parse');
    }
  })();
  await loaded;

  const maybeTrip = (event: CallEvent) => {
    const now = Date.now();
    const signal = evaluateTrip(upstreamHealth(state, breakerKeyOf(event.upstream, event.model), now, policy), policy, now, event);
    if (!signal) return;
    // An account fault is for the upstream's own breaker, anything else for its model's.
    const key = breakerKeyOfSignal(signal);
    const breaker = breakers.get(key);
    if (!isTripActionable(breaker, signal)) return;
    const pool = (pools.get(event.provider) ?? []).map((id) => breakerKeyOf(id, event.model));
    if (isRateLimitClass(signal) && !mayEjectForRateLimit(pool, breakers, key, policy)) return;
    const revision = breaker?.revision ?? -1;
    const last = signalled.get(key);
    if (last && last.revision === revision && now - last.at < RESIGNAL_MS) return;
    signalled.set(key, { revision, at: now });
    const model = signal.scope === 'model' ? { model: event.model } : {};
    provisional.set(key, {
      state: {
        upstream: event.upstream,
        ...model,
        state: 'open',
        since: now,
        reopenAt: now + config.breaker.baseCooldownMs,
        consecutiveTrips: 0,
        revision,
        cause: signal.kind,
        reason: `${signal.detail} (awaiting the supervisor)`,
      },
      until: now + PROVISIONAL_MS,
    });
    log.warn({ upstream: event.upstream, ...model, kind: signal.kind, detail: signal.detail }, 'breaker trip');
    options.signalTrip?.(signal).catch((error: unknown) => {
      signalled.delete(key);
      log.error({ err: error, upstream: event.upstream, ...model }, 'could not signal the breaker supervisor');
    });
  };

  const jsm = await nats.jetstreamManager();
  const replayUntil = (await jsm.streams.info(streams.calls.name)).state.last_seq;
  let replayed = false;
  // An empty stream has nothing to replay; a window with no events delivers nothing, so silence means caught up.
  if (replayUntil === 0) replayed = true;
  let delivered = false;
  const follower = await followCallEvents({
    nats,
    jsm,
    log,
    startTime: new Date(Date.now() - policy.windowMs),
    lastSeqAtStart: replayUntil,
    onMessage: (message) => {
      delivered = true;
      if (message.seq >= replayUntil || message.info.pending === 0) replayed = true;
      const parsed = CallEvent.safeParse(decodeJson(message.data));
      if (!parsed.success || parsed.data.cluster !== cluster || !known.has(parsed.data.upstream)) return;
      state = foldCallEvent(state, parsed.data, policy);
      folded += 1;
      // Replayed events only rebuild the picture: their trips were decided when they were live.
      if (message.seq > replayUntil) maybeTrip(parsed.data);
    },
  });
  const silence = setTimeout(() => (replayed ||= !delivered), REPLAY_SILENCE_MS);
  silence.unref();

  const currentBreakers = (): ReadonlyMap<string, BreakerState> => {
    if (provisional.size === 0) return breakers;
    const now = Date.now();
    const merged = new Map(breakers);
    for (const [key, p] of provisional) {
      if (p.until < now) provisional.delete(key);
      else merged.set(key, p.state);
    }
    return merged;
  };
  const view: HealthView = {
    breakers: currentBreakers,
    breakerFor: (upstream, model) => {
      const all = currentBreakers();
      return effectiveBreaker(all.get(upstream), all.get(breakerKeyOf(upstream, model)));
    },
    healthOf: (upstream, model, now) => upstreamHealth(state, breakerKeyOf(upstream, model), now, policy),
    // Every (upstream, model) of the config, seen or not, and any other model seen on a known upstream.
    healthByKey: (now) => {
      const keys = new Set([
        ...breakerTargetsOf(config).flatMap((t) => (t.model !== undefined ? [t.key] : [])),
        ...[...state.upstreams.keys()].filter((key) => known.has(upstreamOfKey(key))),
      ]);
      return new Map([...keys].map((key) => [key, withModel(upstreamHealth(state, key, now, policy), key)]));
    },
    poolOf: (provider) => pools.get(provider) ?? [],
  };

  let answering: Subscription | undefined;
  if (options.answerAs) {
    const worker = options.answerAs;
    answering = nats.subscribe(healthViewSubject(cluster), {
      callback: (_error, message) => {
        const now = Date.now();
        const reply: HealthViewReply = {
          worker,
          at: now,
          folded,
          replayed,
          health: [...view.healthByKey(now).values()],
          breakers: [...view.breakers().values()],
        };
        message.respond(codec.encode(reply));
      },
    });
  }

  return {
    ...view,
    prepareReconfigure(next) {
      const nextPools = poolsOf(next);
      return () => {
        config = next;
        policy = next.health;
        pools = nextPools;
        known = new Set([...nextPools.values()].flat());
      };
    },
    folded: () => folded,
    replayed: () => replayed,
    async close() {
      clearTimeout(silence);
      answering?.unsubscribe();
      await follower.close();
      await watcher.stop();
    },
  };
}

/** A pair never seen has no model in its summary: name it from the key. */
function withModel(health: UpstreamHealth, key: string): UpstreamHealth {
  const model = health.model ?? modelOfKey(key);
  return model === undefined ? health : { ...health, model };
}

function poolsOf(config: SwitchboardConfig): Map<string, string[]> {
  return new Map(Object.entries(config.providers).map(([provider, p]) => [provider, p.upstreams.map((u) => upstreamId(provider, u.name))]));
}
