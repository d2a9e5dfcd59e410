/**
 * How big each part runs, and its time budget, per suite size. `default` is
 * what `make bench` runs, the crash part at the size (1,000 calls and
 * 20 chains): about 18 minutes on a quiet 2-core machine; `quick` runs the
 * crash part at 300 calls and 6 chains (about 14 minutes); `smoke` checks in about two minutes that every part
 * still works — CI runs it, and it fails on a broken invariant, never on speed.
 */
import type { CrashSizes } from './crashes';
import type { FaultTiming } from './faults';
import type { StackSizes } from './stack-faults';

export type SuiteSize = 'smoke' | 'quick' | 'default';

export interface Sizes {
  overhead: { concurrency: number[]; warmupMs: number; durationMs: number; switchboardDurationMs: number; switchboardMaxDurationMs: number; budgetMs: number };
  faults: FaultTiming & { scenarios: 'all' | string[]; budgetMs: number };
  scale: { maxWorkers: number; concurrency: number; warmupMs: number; durationMs: number; budgetMs: number };
  crashes: CrashSizes & { budgetMs: number };
  stack: StackSizes & { budgetMs: number };
  /** Part 1's closed loop on the production topology; the budget includes starting and stopping the cluster. */
  cluster: { concurrency: number[]; warmupMs: number; durationMs: number; switchboardDurationMs: number; switchboardMaxDurationMs: number; budgetMs: number };
}

const DEFAULT: Sizes = {
  overhead: { concurrency: [1, 10, 50], warmupMs: 1_000, durationMs: 3_000, switchboardDurationMs: 8_000, switchboardMaxDurationMs: 45_000, budgetMs: 260_000 },
  faults: { scenarios: 'all', ratePerSecond: 3, beforeMs: 3_000, faultMs: 18_000, afterMs: 8_000, maxInFlight: 80, budgetMs: 620_000 },
  scale: { maxWorkers: 3, concurrency: 16, warmupMs: 3_000, durationMs: 15_000, budgetMs: 110_000 },
  crashes: { calls: 1_000, chains: 20, chainPages: 6, baselineCalls: 30, ratePerSecond: 3, killEveryMs: 5_000, vendorLatencyMs: 800, budgetMs: 500_000 },
  stack: {
    ratePerSecond: 4,
    beforeMs: 5_000,
    afterMs: 10_000,
    natsOutageMs: 30_000,
    temporalOutageMs: 10_000,
    recordWaitMs: 60_000,
    settleMs: 60_000,
    heldRequestMs: 15_000,
    overload: { probeConcurrency: 16, probeMs: 8_000, unloadedMs: 10_000, overloadMs: 40_000, cooldownMs: 30_000 },
    budgetMs: 360_000,
  },
  cluster: { concurrency: [1, 10], warmupMs: 1_000, durationMs: 3_000, switchboardDurationMs: 8_000, switchboardMaxDurationMs: 45_000, budgetMs: 420_000 },
};

export function sizesFor(size: SuiteSize): Sizes {
  switch (size) {
    case 'default':
      return DEFAULT;
    case 'quick':
      return { ...DEFAULT, crashes: { ...DEFAULT.crashes, calls: 300, chains: 6, budgetMs: 270_000 } };
    case 'smoke':
      return {
        overhead: { concurrency: [1, 10], warmupMs: 500, durationMs: 1_500, switchboardDurationMs: 3_000, switchboardMaxDurationMs: 20_000, budgetMs: 130_000 },
        faults: { scenarios: ['org-dead'], ratePerSecond: 3, beforeMs: 2_000, faultMs: 6_000, afterMs: 5_000, maxInFlight: 40, budgetMs: 120_000 },
        scale: { maxWorkers: 2, concurrency: 4, warmupMs: 1_000, durationMs: 4_000, budgetMs: 90_000 },
        crashes: { calls: 24, chains: 1, chainPages: 3, baselineCalls: 6, ratePerSecond: 3, killEveryMs: 3_000, vendorLatencyMs: 800, budgetMs: 120_000 },
        stack: {
          ratePerSecond: 3,
          beforeMs: 2_000,
          afterMs: 5_000,
          natsOutageMs: 4_000,
          temporalOutageMs: 4_000,
          recordWaitMs: 60_000,
          settleMs: 60_000,
          heldRequestMs: 10_000,
          overload: { probeConcurrency: 8, probeMs: 3_000, unloadedMs: 3_000, overloadMs: 5_000, cooldownMs: 5_000 },
          budgetMs: 240_000,
        },
        cluster: { concurrency: [1, 10], warmupMs: 500, durationMs: 1_500, switchboardDurationMs: 3_000, switchboardMaxDurationMs: 20_000, budgetMs: 300_000 },
      };
  }
}
