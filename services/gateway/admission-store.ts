/**
 * Where limiter states live: a NATS KV bucket shared by every gateway pod
 * (every change a compare-and-set on the key's revision, so two pods racing
 * for a user's last slot cannot both win), and a per-pod map used while NATS
 * does not answer (`admission.onNatsUnavailable: open`).
 */
import { JSONCodec, type KV } from 'nats';
import { LimiterState } from '../../lib/admission/limiter';
import { isRevisionConflict } from '../../lib/nats/kv';
import type { NatsReachability } from '../../lib/nats/reachability';
import { withTimeout } from '../../lib/timeout';

const codec = JSONCodec<unknown>();
const MAX_CAS_ROUNDS = 50;

export type StateChange<T> = (state: LimiterState | undefined) => { state: LimiterState; outcome: T };

export interface LimiterStore {
  /** Applies `change` to the key's state atomically. */
  update<T>(key: string, change: StateChange<T>): Promise<T>;
}

/** NATS did not answer within the admission's time: the caller decides (open or closed). */
export class NatsUnavailableError extends Error {
  override readonly name = 'NatsUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export function isNatsUnavailableError(error: unknown): error is NatsUnavailableError {
  return error instanceof Error && error.name === 'NatsUnavailableError';
}

/** Too many pods raced for one key: a 503 with retry-after upstream, never a 500. */
export class AdmissionContendedError extends Error {
  override readonly name = 'AdmissionContendedError';
}

export function createKvStore(kv: KV, health: NatsReachability, timeoutMs: number): LimiterStore {
  const guarded = async <T>(op: () => Promise<T>): Promise<T> => {
    if (health.isDown()) throw new NatsUnavailableError('NATS is unreachable');
    try {
      return await withTimeout(op(), timeoutMs, () => new NatsUnavailableError(`NATS KV did not answer within ${timeoutMs} ms`));
    } catch (error) {
      if (isRevisionConflict(error)) throw error;
      health.suspect();
      throw isNatsUnavailableError(error) ? error : new NatsUnavailableError(`NATS KV failed: ${(error as Error).message}`, { cause: error });
    }
  };
  return {
    async update(key, change) {
      for (let round = 0; round < MAX_CAS_ROUNDS; round++) {
        const entry = await guarded(() => kv.get(key));
        const current = entry && entry.operation === 'PUT' ? LimiterState.parse(codec.decode(entry.value)) : undefined;
        const { state, outcome } = change(current);
        try {
          await guarded(() => (entry ? kv.update(key, codec.encode(state), entry.revision) : kv.create(key, codec.encode(state))));
          return outcome;
        } catch (error) {
          // Lost the race: read the winner's state and decide again.
          if (!isRevisionConflict(error)) throw error;
        }
      }
      throw new AdmissionContendedError(`admission state ${key} stayed contended for ${MAX_CAS_ROUNDS} rounds`);
    },
  };
}

/** Subjects the per-pod fallback keeps at most; past it, those with nothing in flight are forgotten (their buckets start full again). */
const MAX_LOCAL_SUBJECTS = 10_000;

/** This pod's own states: the fallback while NATS is away (limits then hold per pod, not cluster-wide). */
export function createLocalStore(): LimiterStore & { size(): number } {
  const states = new Map<string, LimiterState>();
  return {
    size: () => states.size,
    async update(key, change) {
      const { state, outcome } = change(states.get(key));
      states.set(key, state);
      if (states.size > MAX_LOCAL_SUBJECTS) {
        for (const [k, s] of states) if (k !== key && Object.keys(s.leases).length === 0) states.delete(k);
      }
      return outcome;
    },
  };
}
