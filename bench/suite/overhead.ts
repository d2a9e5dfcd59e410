/**
 * Part 1, overhead: the same `openai` SDK client calls the fake vendor
 * directly, through Switchboard's gateway (as `make up` runs it: gateway with
 * its in-process worker plus one worker process) and through the peer, at
 * each concurrency, closed loop. Added latency = a target's percentile minus
 * the direct call's at the same concurrency; throughput at saturation = the
 * best calls/s over the concurrency levels; CPU and memory of every process
 * on the target's path, from /proc.
 */
import { startUsageWindow, type ProcessUsage } from './proc-stats';
import { callOnce, openaiClient, round1, runClosedLoop, summarise, type LatencySummary, type Target } from './sdk-load';

export interface OverheadLevel extends LatencySummary {
  concurrency: number;
  callsPerSecond: number;
  /** The measured window (longer than asked when the target was slow). */
  windowMs: number;
  addedP50Ms: number | null;
  addedP95Ms: number | null;
  addedP99Ms: number | null;
  /** CPU ms per call completed in the window, over the target's own processes (the fake vendor excluded). */
  cpuMsPerCall: number | null;
  processes: ProcessUsage[];
  firstErrors: string[];
}

export interface OverheadTarget {
  name: string;
  description: string;
  levels: OverheadLevel[];
  saturationCallsPerSecond: number;
}

export interface OverheadTargetSpec {
  target: Target;
  description: string;
  /** Processes on this target's path whose CPU and memory are reported; `own: false` ones (the vendor) are not charged to the target. */
  processes: Array<{ name: string; pid: number; own: boolean }>;
  durationMs: number;
  /** How far the window may stretch until `concurrency` calls sent in it succeeded. */
  maxDurationMs: number;
}

export async function measureOverhead(specs: OverheadTargetSpec[], o: { concurrency: number[]; warmupMs: number; log: (line: string) => void }): Promise<OverheadTarget[]> {
  const results: OverheadTarget[] = [];
  let direct: OverheadLevel[] | undefined;
  for (const spec of specs) {
    const client = openaiClient(spec.target);
    const levels: OverheadLevel[] = [];
    for (const concurrency of o.concurrency) {
      let usage: { end: () => ProcessUsage[] } | undefined;
      let processes: ProcessUsage[] = [];
      const { outcomes, callsPerSecond, completedInWindow, windowMs } = await runClosedLoop(
        (i) => callOnce(client, spec.target.model, `Overhead ${spec.target.name} c${concurrency} #${i}: suggest a headline for a bakery.`, false),
        concurrency,
        {
          warmupMs: o.warmupMs,
          durationMs: spec.durationMs,
          // At least one call per client measured, however slow the target (within its budget).
          minCalls: concurrency,
          maxDurationMs: spec.maxDurationMs,
          onStart: () => (usage = startUsageWindow(spec.processes)),
          onEnd: () => (processes = usage?.end() ?? []),
        },
      );
      const summary = summarise(outcomes);
      const baseline = direct?.find((d) => d.concurrency === concurrency);
      const added = (mine: number | null, theirs: number | null | undefined) => (mine === null || theirs === null || theirs === undefined ? null : round1(mine - theirs));
      const own = processes.filter((_, i) => spec.processes[i]!.own);
      // Direct calls have no process of their own to charge.
      const ownCpu = own.length === 0 ? null : own.reduce<number | null>((sum, p) => (sum === null || p.cpuMs === null ? null : sum + p.cpuMs), 0);
      const level: OverheadLevel = {
        concurrency,
        ...summary,
        callsPerSecond,
        windowMs,
        addedP50Ms: added(summary.p50Ms, baseline?.p50Ms),
        addedP95Ms: added(summary.p95Ms, baseline?.p95Ms),
        addedP99Ms: added(summary.p99Ms, baseline?.p99Ms),
        cpuMsPerCall: ownCpu === null || completedInWindow === 0 ? null : round1(ownCpu / completedInWindow),
        processes,
        firstErrors: [...new Set(outcomes.filter((x) => !x.ok).map((x) => x.error ?? 'unknown'))].slice(0, 3),
      };
      levels.push(level);
      o.log(`overhead ${spec.target.name.padEnd(11)} c=${String(concurrency).padEnd(3)} ${String(callsPerSecond).padStart(7)} calls/s  p50 ${level.p50Ms} p95 ${level.p95Ms} p99 ${level.p99Ms} ms  errors ${level.errors}  cpu/call ${level.cpuMsPerCall} ms`);
    }
    if (spec.target.name === 'direct') direct = levels;
    results.push({ name: spec.target.name, description: spec.description, levels, saturationCallsPerSecond: Math.max(...levels.map((l) => l.callsPerSecond)) });
  }
  return results;
}
