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
import type OpenAI from 'openai';
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

/** Streamed calls at concurrency 1: time to the first content token, and what the target adds to the vendor's own. */
export interface StreamingFigures {
  concurrency: number;
  calls: number;
  errors: number;
  ttftP50Ms: number | null;
  ttftP95Ms: number | null;
  ttftP99Ms: number | null;
  /** The target's TTFT percentile − the direct stream's (the vendor's own TTFT) at the same concurrency. */
  addedTtftP50Ms: number | null;
  addedTtftP99Ms: number | null;
}

export interface OverheadTarget {
  name: string;
  description: string;
  levels: OverheadLevel[];
  saturationCallsPerSecond: number;
  /** Targets that stream (not the floor, whose workflow answers whole; not the peer, whose streams fail, docs/benchmarks.md). */
  streaming?: StreamingFigures;
}

export interface OverheadTargetSpec {
  target: Target;
  description: string;
  /** Processes on this target's path whose CPU and memory are reported; `own: false` ones (the vendor) are not charged to the target. */
  processes: Array<{ name: string; pid: number; own: boolean }>;
  durationMs: number;
  /** How far the window may stretch until `concurrency` calls sent in it succeeded. */
  maxDurationMs: number;
  /** Also measure streamed calls' time to first token at concurrency 1. */
  streams?: boolean;
}

/** The baseline every other target is measured against: the same client straight at the fake vendor. */
export function directSpec(o: { vendorUrl: string; apiKey: string; vendorPid: number; durationMs: number; streams?: boolean }): OverheadTargetSpec {
  return {
    target: { name: 'direct', baseURL: `${o.vendorUrl}/v1`, apiKey: o.apiKey, model: 'gpt-4o-mini' },
    description: 'openai SDK → fake vendor',
    processes: [{ name: 'fake-vendor', pid: o.vendorPid, own: false }],
    durationMs: o.durationMs,
    maxDurationMs: o.durationMs,
    ...(o.streams ? { streams: true } : {}),
  };
}

/**
 * Every target at one concurrency, then the next concurrency: each target's
 * row is measured next to the others' at the same load (not minutes apart,
 * and not right after another target's saturating run), so the ratios to the
 * floor compare like with like. A short pause between rows lets the Temporal
 * server finish what the last row left it (visibility, timers). At
 * concurrency 1 — where a few ms decide the ratio to the floor and the
 * machine's speed drifts by as much within a minute — each target's window
 * is cut into `ROUNDS_AT_C1` rounds taken in turn (floor, Switchboard, floor,
 * …), and its row pools them.
 */
export async function measureOverhead(
  specs: OverheadTargetSpec[],
  o: { concurrency: number[]; warmupMs: number; log: (line: string) => void },
): Promise<OverheadTarget[]> {
  const levels = new Map<string, OverheadLevel[]>(specs.map((spec) => [spec.target.name, []]));
  const clients = new Map(specs.map((spec) => [spec.target.name, openaiClient(spec.target)]));
  for (const concurrency of o.concurrency) {
    const rounds = concurrency === 1 ? ROUNDS_AT_C1 : 1;
    const windows = new Map<string, LevelWindow[]>(specs.map((spec) => [spec.target.name, []]));
    for (let round = 0; round < rounds; round++) {
      for (const spec of specs) {
        // Concurrency 1 leaves the server nothing to finish: only the first round follows a saturating row.
        if (round === 0) await settle();
        const warmupMs = round === 0 ? o.warmupMs : Math.min(o.warmupMs, ROUND_WARMUP_MS);
        windows.get(spec.target.name)!.push(await measureWindow(clients.get(spec.target.name)!, spec, concurrency, warmupMs, rounds));
      }
    }
    for (const spec of specs) {
      const baseline = levels.get('direct')?.find((d) => d.concurrency === concurrency);
      const level = levelOf(spec, concurrency, windows.get(spec.target.name)!, baseline);
      levels.get(spec.target.name)!.push(level);
      o.log(
        `overhead ${spec.target.name.padEnd(11)} c=${String(concurrency).padEnd(3)} ${String(level.callsPerSecond).padStart(7)} calls/s  p50 ${level.p50Ms} p95 ${level.p95Ms} p99 ${level.p99Ms} ms  errors ${level.errors}  cpu/call ${level.cpuMsPerCall} ms`,
      );
    }
  }
  const streamed = new Map<string, StreamingFigures>();
  for (const spec of specs.filter((x) => x.streams)) {
    await settle();
    const streaming = await measureStreaming(clients.get(spec.target.name)!, spec, o, streamed.get('direct'));
    streamed.set(spec.target.name, streaming);
    o.log(
      `overhead ${spec.target.name.padEnd(11)} stream c=1  TTFT p50 ${streaming.ttftP50Ms} p95 ${streaming.ttftP95Ms} p99 ${streaming.ttftP99Ms} ms  added p50 ${streaming.addedTtftP50Ms} ms  errors ${streaming.errors}`,
    );
  }
  return specs.map((spec) => {
    const mine = levels.get(spec.target.name)!;
    const streaming = streamed.get(spec.target.name);
    return {
      name: spec.target.name,
      description: spec.description,
      levels: mine,
      saturationCallsPerSecond: Math.max(...mine.map((l) => l.callsPerSecond)),
      ...(streaming ? { streaming } : {}),
    };
  });
}

/** Between two rows: the last row's leftovers (visibility writes, a saturated queue) are the server's to finish first. */
const SETTLE_MS = 2_000;
const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

/** Rounds each target's window at concurrency 1 is cut into, taken in turn with the other targets'. */
const ROUNDS_AT_C1 = 4;
/** The warm-up before each later round (the client's connection and the target's code are warm already). */
const ROUND_WARMUP_MS = 300;

/** One closed-loop window of one target: what it measured, before rows pool windows. */
interface LevelWindow {
  outcomes: Awaited<ReturnType<typeof callOnce>>[];
  completedInWindow: number;
  windowMs: number;
  processes: ProcessUsage[];
}

/** One target at one concurrency for `1 / share` of its window: the calls, and the CPU its processes spent. */
async function measureWindow(client: OpenAI, spec: OverheadTargetSpec, concurrency: number, warmupMs: number, share: number): Promise<LevelWindow> {
  let usage: { end: () => ProcessUsage[] } | undefined;
  let processes: ProcessUsage[] = [];
  const { outcomes, completedInWindow, windowMs } = await runClosedLoop(
    (i) => callOnce(client, spec.target.model, `Overhead ${spec.target.name} c${concurrency} #${i}: suggest a headline for a bakery.`, false),
    concurrency,
    {
      warmupMs,
      durationMs: spec.durationMs / share,
      // At least one call per client measured, however slow the target (within its budget).
      minCalls: concurrency,
      maxDurationMs: spec.maxDurationMs / share,
      onStart: () => (usage = startUsageWindow(spec.processes)),
      onEnd: () => (processes = usage?.end() ?? []),
    },
  );
  return { outcomes, completedInWindow, windowMs, processes };
}

/** Each process's usage over several windows: CPU summed, cores busy over the windows' total time, the last RSS and the highest peak. */
function pooledUsage(windows: LevelWindow[]): ProcessUsage[] {
  const totalMs = windows.reduce((sum, w) => sum + w.windowMs, 0);
  return (windows[0]?.processes ?? []).map((first, i) => {
    const each = windows.map((w) => w.processes[i]);
    const cpuMs = each.reduce<number | null>((sum, p) => (sum === null || !p || p.cpuMs === null ? null : sum + p.cpuMs), 0);
    const peaks = each.map((p) => p?.peakRssMb ?? null).filter((x): x is number => x !== null);
    return {
      name: first.name,
      cpuMs: cpuMs === null ? null : round1(cpuMs),
      cores: cpuMs === null || totalMs === 0 ? null : Math.round((cpuMs / totalMs) * 100) / 100,
      rssMb: each[each.length - 1]?.rssMb ?? null,
      peakRssMb: peaks.length ? Math.max(...peaks) : null,
    };
  });
}

/** A target's row at one concurrency from its windows: latency, throughput, and the CPU its processes spent per call. */
function levelOf(spec: OverheadTargetSpec, concurrency: number, windows: LevelWindow[], baseline: OverheadLevel | undefined): OverheadLevel {
  const outcomes = windows.flatMap((w) => w.outcomes);
  const completedInWindow = windows.reduce((sum, w) => sum + w.completedInWindow, 0);
  const windowMs = windows.reduce((sum, w) => sum + w.windowMs, 0);
  const processes = pooledUsage(windows);
  const summary = summarise(outcomes);
  const added = (mine: number | null, theirs: number | null | undefined) =>
    mine === null || theirs === null || theirs === undefined ? null : round1(mine - theirs);
  const own = processes.filter((_, i) => spec.processes[i]!.own);
  // Direct calls have no process of their own to charge.
  const ownCpu = own.length === 0 ? null : own.reduce<number | null>((sum, p) => (sum === null || p.cpuMs === null ? null : sum + p.cpuMs), 0);
  return {
    concurrency,
    ...summary,
    callsPerSecond: windowMs === 0 ? 0 : Math.round((completedInWindow / windowMs) * 10_000) / 10,
    windowMs,
    addedP50Ms: added(summary.p50Ms, baseline?.p50Ms),
    addedP95Ms: added(summary.p95Ms, baseline?.p95Ms),
    addedP99Ms: added(summary.p99Ms, baseline?.p99Ms),
    cpuMsPerCall: ownCpu === null || completedInWindow === 0 ? null : round1(ownCpu / completedInWindow),
    processes,
    firstErrors: [...new Set(outcomes.filter((x) => !x.ok).map((x) => x.error ?? 'unknown'))].slice(0, 3),
  };
}

/** One client streaming back to back: TTFT percentiles, and the added TTFT against the direct stream's. */
async function measureStreaming(
  client: OpenAI,
  spec: OverheadTargetSpec,
  o: { warmupMs: number },
  direct: StreamingFigures | undefined,
): Promise<StreamingFigures> {
  const concurrency = 1;
  const { outcomes } = await runClosedLoop(
    (i) => callOnce(client, spec.target.model, `Overhead ${spec.target.name} stream #${i}: suggest a headline for a bakery.`, true),
    concurrency,
    {
      warmupMs: o.warmupMs,
      durationMs: spec.durationMs,
      minCalls: 1,
      maxDurationMs: spec.maxDurationMs,
    },
  );
  const ttft = summarise(outcomes, (x) => x.ttftMs);
  const added = (mine: number | null, theirs: number | null | undefined) =>
    mine === null || theirs === null || theirs === undefined ? null : round1(mine - theirs);
  return {
    concurrency,
    calls: ttft.calls,
    errors: ttft.errors,
    ttftP50Ms: ttft.p50Ms,
    ttftP95Ms: ttft.p95Ms,
    ttftP99Ms: ttft.p99Ms,
    addedTtftP50Ms: added(ttft.p50Ms, direct?.ttftP50Ms),
    addedTtftP99Ms: added(ttft.p99Ms, direct?.ttftP99Ms),
  };
}
