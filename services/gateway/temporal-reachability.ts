/**
 * Whether Temporal answers right now, for load shedding: while Temporal is
 * away nothing finishes, so the shedding estimate grows without bound and a
 * refusal would say "overloaded, retry after minutes" (the bench saw 130 s
 * for a 10 s outage). A refused call asks this first and, when Temporal does
 * not answer, names it with the short retry-after of every other Temporal 503.
 * One cheap call (getSystemInfo, the /readyz check) bounded by `timeoutMs`;
 * its answer is kept for `maxAgeMs`, so refusals under real overload cost at
 * most one call per `maxAgeMs` per pod.
 */
export interface TemporalReachability {
  isReachable(): Promise<boolean>;
}

export function createTemporalReachability(check: () => Promise<unknown>, o: { timeoutMs: number; maxAgeMs: number }): TemporalReachability {
  let last: { at: number; reachable: Promise<boolean> } | undefined;
  return {
    isReachable() {
      const now = Date.now();
      if (!last || now - last.at > o.maxAgeMs) {
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('late')), o.timeoutMs)));
        const reachable = Promise.race([check(), late]).then(
          () => true,
          () => false,
        );
        void reachable.finally(() => clearTimeout(timer));
        last = { at: now, reachable };
      }
      return last.reachable;
    },
  };
}
