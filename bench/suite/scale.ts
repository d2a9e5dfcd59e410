/**
 * Part 4, scale: calls/s against the number of worker processes (1..3) on
 * one task queue, closed loop through the typed Temporal client (no gateway),
 * route chat-default. On a 2-core machine more workers than cores cannot add
 * throughput; the figure says where this machine's ceiling is.
 */
import type { SwitchboardClient } from '../../lib/client';
import type { LlmResult } from '../../schemas/llm';
import { startUsageWindow, type ProcessUsage } from './proc-stats';
import { runClosedLoop, summarise, type CallOutcome, type LatencySummary } from './sdk-load';
import type { WorkerPool } from './workers';

export interface ScalePoint extends LatencySummary {
  workers: number;
  concurrency: number;
  callsPerSecond: number;
  /** CPU of the workers, the Temporal dev server and nats-server during the window. */
  processes: ProcessUsage[];
}

/**
 * Attempts lost with their worker: the activity timed out (its heartbeat
 * stopped) and the workflow retried it elsewhere. Such an attempt may have
 * been answered — and paid — before the worker died.
 */
export function lostAttempts(attempts: LlmResult['attempts']): number {
  return attempts.filter((a) => a.errorType === 'activity_timeout' || a.errorType === 'activity_failed').length;
}

export async function typedCall(sb: SwitchboardClient, prompt: string): Promise<CallOutcome> {
  const sentAt = Date.now();
  const started = performance.now();
  try {
    const handle = await sb.start({ route: 'chat-default', messages: [{ role: 'user', content: prompt }] });
    const result = await handle.result();
    return { ok: true, sentAt, latencyMs: performance.now() - started, lostAttempts: lostAttempts(result.attempts), workflowId: handle.workflowId };
  } catch (error) {
    return { ok: false, sentAt, latencyMs: performance.now() - started, error: error instanceof Error ? error.message.slice(0, 200) : String(error) };
  }
}

export async function measureScale(
  sb: SwitchboardClient,
  pool: WorkerPool,
  infrastructure: Array<{ name: string; pid: number }>,
  o: { maxWorkers: number; concurrency: number; warmupMs: number; durationMs: number; log: (line: string) => void },
): Promise<ScalePoint[]> {
  const points: ScalePoint[] = [];
  for (let workers = 1; workers <= o.maxWorkers; workers++) {
    while (pool.ready().length < workers) await pool.add();
    const watched = [...pool.ready().map((w) => ({ name: w.name, pid: w.pid })), ...infrastructure];
    let usage: { end: () => ProcessUsage[] } | undefined;
    let processes: ProcessUsage[] = [];
    const { outcomes, callsPerSecond } = await runClosedLoop((i) => typedCall(sb, `Scale ${workers} workers #${i}: a slogan for a florist.`), o.concurrency, {
      warmupMs: o.warmupMs,
      durationMs: o.durationMs,
      minCalls: o.concurrency,
      maxDurationMs: 3 * o.durationMs,
      onStart: () => (usage = startUsageWindow(watched)),
      onEnd: () => (processes = usage?.end() ?? []),
    });
    const point: ScalePoint = { workers, concurrency: o.concurrency, callsPerSecond, ...summarise(outcomes), processes };
    points.push(point);
    o.log(
      `scale ${workers} worker(s), c=${o.concurrency}: ${callsPerSecond} calls/s  p50 ${point.p50Ms} p99 ${point.p99Ms} ms  errors ${point.errors}  cores: ${point.processes.map((p) => `${p.name} ${p.cores}`).join(', ')}`,
    );
  }
  return points;
}
