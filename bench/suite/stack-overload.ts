/**
 * The stack part's overload scenario, on one gateway and one worker process:
 * a closed loop finds the rate the stack sustains; an open loop at half of it
 * gives the unloaded latency; then an open loop offers twice the sustainable
 * rate for `overloadMs`. Load shedding (docs/gateway.md) should keep the
 * admitted calls' latency within its budget and refuse the rest fast, with
 * 429/503 and retry-after. The gateway's and the worker's RSS are sampled
 * before, through the load (the peak) and `cooldownMs` after its last call.
 */
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
}

export interface OverloadResult {
  /** Calls/s the closed loop completed. */
  sustainableCallsPerSecond: number;
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

/** Samples the processes' RSS every 500 ms until stopped; returns each one's highest. */
function sampleRss(processes: Array<{ name: string; pid: number }>): { stop: () => Map<string, number> } {
  const peak = new Map<string, number>();
  const sample = () => {
    for (const p of processes) {
      const rss = memoryMbOf(p.pid)?.rssMb;
      if (rss !== undefined && Number.isFinite(rss)) peak.set(p.name, Math.max(peak.get(p.name) ?? 0, rss));
    }
  };
  sample();
  const timer = setInterval(sample, 500);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
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

  const processes = [
    { name: 'gateway', pid: gateway.service.pid },
    { name: 'worker', pid: worker.pid },
  ];
  const before = new Map(processes.map((p) => [p.name, memoryMbOf(p.pid)?.rssMb ?? null]));
  const rss = sampleRss(processes);
  const offered = Math.round(sustainable * 2 * 10) / 10;
  o.log(
    `stack overload: sustainable ${sustainable} calls/s (closed loop of ${sizes.probeConcurrency}); offering ${offered} calls/s for ${sizes.overloadMs / 1000} s`,
  );
  const run = await runOpenLoop(call('overload'), { ratePerSecond: offered, durationMs: sizes.overloadMs, maxInFlight: 100_000 });
  const peak = rss.stop();
  await new Promise((r) => setTimeout(r, sizes.cooldownMs));
  const memory = processes.map((p) => ({
    name: p.name,
    beforeMb: before.get(p.name) ?? null,
    peakMb: peak.get(p.name) ?? null,
    afterMb: memoryMbOf(p.pid)?.rssMb ?? null,
  }));

  const refusals = run.outcomes
    .filter((c) => isRefusal(c.status))
    .map((c) => c.latencyMs)
    .sort((a, b) => a - b);
  const result: OverloadResult = {
    sustainableCallsPerSecond: sustainable,
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
    `stack overload: ${result.overload.answered} admitted of ${run.outcomes.length} (p50 ${result.overload.answeredP50Ms} p99 ${result.overload.answeredP99Ms} ms; unloaded p50 ${result.unloaded.answeredP50Ms} p99 ${result.unloaded.answeredP99Ms} ms), ${result.refused} refused (p99 ${result.refusalP99Ms} ms), ${result.otherErrors} other errors; RSS ${memory.map((m) => `${m.name} ${m.beforeMb} → ${m.peakMb} → ${m.afterMb} MB`).join(', ')}`,
  );
  return result;
}
