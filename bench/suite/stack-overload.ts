/**
 * The stack part's overload scenario, on one gateway and one worker process:
 * a closed loop finds the rate the stack sustains; an open loop at half of it
 * gives the unloaded latency; then an open loop offers twice the sustainable
 * rate for `overloadMs`. Load shedding (docs/gateway.md) should keep the
 * admitted calls' latency within its budget and refuse the rest fast, with
 * 429/503 and retry-after. The gateway's and the worker's RSS are sampled
 * before, through the load (the peak) and `cooldownMs` after its last call.
 */
import { heapUsedAfterGc } from './inspector';
import { memoryMbOf } from './proc-stats';
import { percentile, round1, runClosedLoop, runOpenLoop } from './sdk-load';
import { mixedCall, tally, type CallTally, type StackGateway } from './stack-calls';
import type { ServiceProcess } from './services';

export interface OverloadSizes {
  /** Clients of the closed loop that measures the sustainable rate, and how long it runs. */
  probeConcurrency: number;
  probeMs: number;
  /** The open loop at half the sustainable rate (the unloaded latency). */
  unloadedMs: number;
  /** The open loop at twice the sustainable rate. */
  overloadMs: number;
  /** RSS is read this long after the overload's last call ended. */
  cooldownMs: number;
}

export interface MemoryFigure {
  name: string;
  beforeMb: number | null;
  peakMb: number | null;
  afterMb: number | null;
  /** V8 heap in use (the process's /metrics, `nodejs_heap_size_used_bytes`): RSS that stays up while this returns is pages V8 or the allocator kept, not live objects. */
  heapUsedBeforeMb: number | null;
  heapUsedPeakMb: number | null;
  heapUsedAfterMb: number | null;
  /** The V8 heap's size after the cooldown (`nodejs_heap_size_total_bytes`): what V8 holds, used or not. */
  heapTotalAfterMb: number | null;
  /** Heap in use and RSS right after a full garbage collection forced after the cooldown (bench/suite/inspector.ts): what is still live. */
  heapUsedAfterGcMb?: number | null;
  rssAfterGcMb?: number | null;
}

export interface OverloadResult {
  /** Calls/s the closed loop completed. */
  sustainableCallsPerSecond: number;
  /** The closed loop's 429s and 503s: load shedding should refuse nothing while the stack keeps up. */
  probeRefused: number;
  offeredCallsPerSecond: number;
  unloaded: CallTally;
  overload: CallTally;
  /** 429s and 503s during the overload, and how long they took to come. */
  refused: number;
  refusalP50Ms: number | null;
  refusalP99Ms: number | null;
  /** Failures that were not a refusal (a timeout, a 5xx other than 503, a broken stream). */
  otherErrors: number;
  memory: MemoryFigure[];
}

const isRefusal = (status: number | null) => status === 429 || status === 503;

interface Sampled {
  name: string;
  pid: number;
  metricsUrl?: string | undefined;
  logFile?: string;
}

/** RSS from /proc and the V8 heap from the process's own Prometheus metrics (null when either cannot be read). */
async function memoryOf(p: Sampled): Promise<{ rssMb: number | null; heapUsedMb: number | null; heapTotalMb: number | null }> {
  const rss = memoryMbOf(p.pid)?.rssMb;
  let text = '';
  if (p.metricsUrl)
    text = await fetch(p.metricsUrl, { signal: AbortSignal.timeout(2_000) }).then(
      (r) => r.text(),
      () => '',
    );
  const mb = (metric: string) => {
    const value = Number(new RegExp(`^\\w*${metric}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1]);
    return Number.isFinite(value) ? Math.round(value / 2 ** 20) : null;
  };
  return {
    rssMb: rss !== undefined && Number.isFinite(rss) ? rss : null,
    heapUsedMb: mb('nodejs_heap_size_used_bytes'),
    heapTotalMb: mb('nodejs_heap_size_total_bytes'),
  };
}

/** Samples the processes' RSS and heap in use every 500 ms until stopped; returns each one's highest. */
function samplePeaks(processes: Sampled[]): { stop: () => Promise<Map<string, { rssMb: number | null; heapUsedMb: number | null }>> } {
  const peak = new Map<string, { rssMb: number | null; heapUsedMb: number | null }>();
  const higher = (a: number | null | undefined, b: number | null) => (a == null ? b : b == null ? a : Math.max(a, b));
  const sample = async () => {
    for (const p of processes) {
      const m = await memoryOf(p);
      const known = peak.get(p.name);
      peak.set(p.name, { rssMb: higher(known?.rssMb, m.rssMb), heapUsedMb: higher(known?.heapUsedMb, m.heapUsedMb) });
    }
  };
  let sampling = sample();
  const timer = setInterval(() => (sampling = sampling.then(sample)), 500);
  return {
    stop: async () => {
      clearInterval(timer);
      await sampling.then(sample);
      return peak;
    },
  };
}

export async function measureOverload(
  gateway: StackGateway,
  worker: ServiceProcess,
  o: { runId: string; sizes: OverloadSizes; log: (line: string) => void },
): Promise<OverloadResult> {
  const { sizes } = o;
  const call = (phase: string) => mixedCall(() => [gateway], o.runId, phase);
  const probe = await runClosedLoop(call('overload-probe'), sizes.probeConcurrency, { warmupMs: 1_000, durationMs: sizes.probeMs });
  const sustainable = probe.callsPerSecond;
  if (!(sustainable > 0)) throw new Error(`the closed loop completed no call (${probe.outcomes.length} sent)`);
  const unloaded = await runOpenLoop(call('overload-unloaded'), { ratePerSecond: sustainable / 2, durationMs: sizes.unloadedMs, maxInFlight: 100_000 });

  const processes: Sampled[] = [
    { name: 'gateway', pid: gateway.service.pid, metricsUrl: gateway.service.metricsUrl, logFile: gateway.service.logFile },
    { name: 'worker', pid: worker.pid, metricsUrl: worker.metricsUrl, logFile: worker.logFile },
  ];
  const before = new Map(await Promise.all(processes.map(async (p) => [p.name, await memoryOf(p)] as const)));
  const peaks = samplePeaks(processes);
  const offered = Math.round(sustainable * 2 * 10) / 10;
  o.log(
    `stack overload: sustainable ${sustainable} calls/s (closed loop of ${sizes.probeConcurrency}); offering ${offered} calls/s for ${sizes.overloadMs / 1000} s`,
  );
  const run = await runOpenLoop(call('overload'), { ratePerSecond: offered, durationMs: sizes.overloadMs, maxInFlight: 100_000 });
  const peak = await peaks.stop();
  await new Promise((r) => setTimeout(r, sizes.cooldownMs));
  const memory = await Promise.all(
    processes.map(async (p): Promise<MemoryFigure> => {
      const after = await memoryOf(p);
      const heapUsedAfterGcMb = p.logFile ? await heapUsedAfterGc(p.logFile) : null;
      return {
        name: p.name,
        beforeMb: before.get(p.name)?.rssMb ?? null,
        peakMb: peak.get(p.name)?.rssMb ?? null,
        afterMb: after.rssMb,
        heapUsedBeforeMb: before.get(p.name)?.heapUsedMb ?? null,
        heapUsedPeakMb: peak.get(p.name)?.heapUsedMb ?? null,
        heapUsedAfterMb: after.heapUsedMb,
        heapTotalAfterMb: after.heapTotalMb,
        heapUsedAfterGcMb,
        rssAfterGcMb: heapUsedAfterGcMb === null ? null : (memoryMbOf(p.pid)?.rssMb ?? null),
      };
    }),
  );

  const refusals = run.outcomes
    .filter((c) => isRefusal(c.status))
    .map((c) => c.latencyMs)
    .sort((a, b) => a - b);
  const result: OverloadResult = {
    sustainableCallsPerSecond: sustainable,
    probeRefused: probe.outcomes.filter((c) => isRefusal(c.status)).length,
    offeredCallsPerSecond: offered,
    unloaded: tally(unloaded.outcomes),
    overload: tally(run.outcomes),
    refused: refusals.length,
    refusalP50Ms: round1(percentile(refusals, 50)),
    refusalP99Ms: round1(percentile(refusals, 99)),
    otherErrors: run.outcomes.filter((c) => !c.ok && !isRefusal(c.status)).length,
    memory,
  };
  o.log(
    `stack overload: the closed loop had ${result.probeRefused} refused; ${result.overload.answered} admitted of ${run.outcomes.length} (p50 ${result.overload.answeredP50Ms} p99 ${result.overload.answeredP99Ms} ms; unloaded p50 ${result.unloaded.answeredP50Ms} p99 ${result.unloaded.answeredP99Ms} ms), ${result.refused} refused (p99 ${result.refusalP99Ms} ms), ${result.otherErrors} other errors; RSS (heap used) ${memory.map((m) => `${m.name} ${m.beforeMb} (${m.heapUsedBeforeMb}) → ${m.peakMb} (${m.heapUsedPeakMb}) → ${m.afterMb} (${m.heapUsedAfterMb}; heap total ${m.heapTotalAfterMb}) MB, after a full GC ${m.rssAfterGcMb} (${m.heapUsedAfterGcMb}) MB`).join(', ')}`,
  );
  return result;
}
