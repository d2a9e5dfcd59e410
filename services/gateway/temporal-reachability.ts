/**
 * Whether Temporal answers, for load shedding: while Temporal is away nothing
 * finishes, so the shedding estimate grows without bound and a refusal would
 * say "overloaded, retry after minutes" (the bench saw 130 s for a 10 s
 * outage). A call about to be shed asks this first and, when Temporal does
 * not answer, names it with the short retry-after of every other Temporal 503.
 * The check is one cheap call (getSystemInfo, the /readyz check) bounded by
 * `timeoutMs`, made at most once per `maxAgeMs`; a refusal gets the last
 * answer at once (only the very first waits for one), so refusals stay fast
 * under real overload, when Temporal itself is slow to answer.
 */
import { withTimeout } from '../../lib/timeout';

export interface TemporalReachability {
  isReachable(): Promise<boolean>;
  /** Epoch ms when the check behind the last answer began (undefined before the first answer). */
  lastAnswerFrom(): number | undefined;
}

export function createTemporalReachability(check: () => Promise<unknown>, o: { timeoutMs: number; maxAgeMs: number }): TemporalReachability {
  let known: boolean | undefined;
  let checking: Promise<boolean> | undefined;
  let checkedAt = Number.NEGATIVE_INFINITY;
  let knownFrom: number | undefined;
  const refresh = (): Promise<boolean> => {
    const from = Date.now();
    return withTimeout(check(), o.timeoutMs)
      .then(
        () => true,
        () => false,
      )
      .then((reachable) => {
        knownFrom = from;
        return (known = reachable);
      })
      .finally(() => {
        checking = undefined;
      });
  };
  return {
    lastAnswerFrom: () => knownFrom,
    isReachable() {
      const now = Date.now();
      if (!checking && now - checkedAt > o.maxAgeMs) {
        checkedAt = now;
        checking = refresh();
      }
      return known === undefined ? checking! : Promise.resolve(known);
    },
  };
}
