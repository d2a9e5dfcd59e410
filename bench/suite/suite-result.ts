/** The shape of bench/results/latest/results.json: everything one `make bench` run measured. */
import type { ClusterResult } from './cluster';
import type { CrashResult } from './crashes';
import type { FaultScenarioResult, FaultTiming } from './faults';
import type { MachineDescription } from './machine';
import type { OverheadTarget } from './overhead';
import type { ScalePoint } from './scale';
import type { StackResult } from './stack-faults';

/** `cluster` runs only when asked (`--parts cluster`). */
export type PartName = 'overhead' | 'faults' | 'crashes' | 'scale' | 'stack' | 'cluster';

/** A part's figures, or why it has none. */
export type PartOutcome<T> = { ok: true; durationMs: number; budgetMs: number; result: T } | { ok: false; durationMs: number; budgetMs: number; error: string };

export interface PeerDescription {
  package: string;
  version: string;
  startCommand: string;
  /** How requests reach the fake vendor through it. */
  routing: string;
  skipped?: string;
}

export interface SuiteResult {
  suite: 'switchboard-bench';
  size: 'smoke' | 'quick' | 'default';
  command: string;
  machine: MachineDescription;
  peer: PeerDescription;
  overhead?: PartOutcome<{ concurrency: number[]; targets: OverheadTarget[] }>;
  faults?: PartOutcome<{ timing: FaultTiming; sickUpstream: string; scenarios: FaultScenarioResult[] }>;
  crashes?: PartOutcome<CrashResult>;
  scale?: PartOutcome<ScalePoint[]>;
  /** Faults in our own stack: NATS and Temporal down, a gateway killed, 2× overload. */
  stack?: PartOutcome<StackResult>;
  /** Part 1's figures on the production topology (services/cluster-stack). */
  cluster?: PartOutcome<ClusterResult>;
  /** Invariants that failed (a lost call, a part that crashed): the run exits non-zero. Speed is never one. */
  failures: string[];
  totalDurationMs: number;
}
