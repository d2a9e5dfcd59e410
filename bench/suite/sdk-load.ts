/**
 * Load through the official `openai` SDK (maxRetries 0, so every figure is
 * one client request): the same client code calls the fake vendor directly,
 * Switchboard's gateway and the peer; only baseURL, key, model and headers
 * differ. Closed loop (N clients back to back) for latency and throughput;
 * open loop (a fixed rate, whatever the answers) for fault scenarios, where a
 * slow gateway must not slow the offered load down.
 */
import OpenAI from 'openai';

export interface Target {
  name: string;
  baseURL: string;
  apiKey: string;
  model: string;
  headers?: Record<string, string>;
}

export interface CallOutcome {
  ok: boolean;
  /** Epoch ms the request was sent. */
  sentAt: number;
  latencyMs: number;
  /** Streams: time to the first content token. */
  ttftMs?: number;
  /** A stream that ended without a finish reason and without an error: a truncated answer presented as whole. */
  silentlyTruncated?: boolean;
  error?: string;
  /** Typed-client calls: attempts lost with their worker (timed out, retried elsewhere), from the call's own record. */
  lostAttempts?: number;
  /** Typed-client calls: the call's workflow id (to read its history). */
  workflowId?: string;
}

export function openaiClient(target: Target, timeoutMs = 60_000): OpenAI {
  return new OpenAI({ apiKey: target.apiKey, baseURL: target.baseURL, maxRetries: 0, timeout: timeoutMs, defaultHeaders: target.headers ?? {} });
}

const describe = (error: unknown) => (error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error)).slice(0, 200);

export async function callOnce(client: OpenAI, model: string, prompt: string, stream: boolean): Promise<CallOutcome> {
  const sentAt = Date.now();
  const started = performance.now();
  const messages = [{ role: 'user' as const, content: prompt }];
  try {
    if (!stream) {
      const completion = await client.chat.completions.create({ model, messages });
      const ok = typeof completion.choices[0]?.message.content === 'string';
      return { ok, sentAt, latencyMs: performance.now() - started, ...(ok ? {} : { error: 'no content in the answer' }) };
    }
    let ttftMs: number | undefined;
    let finished = false;
    const chunks = await client.chat.completions.create({ model, messages, stream: true });
    for await (const chunk of chunks) {
      const choice = chunk.choices[0];
      if (ttftMs === undefined && choice?.delta.content) ttftMs = performance.now() - started;
      if (choice?.finish_reason) finished = true;
    }
    const latencyMs = performance.now() - started;
    if (!finished)
      return {
        ok: false,
        sentAt,
        latencyMs,
        ...(ttftMs !== undefined ? { ttftMs } : {}),
        silentlyTruncated: true,
        error: 'stream ended without a finish reason',
      };
    return { ok: true, sentAt, latencyMs, ...(ttftMs !== undefined ? { ttftMs } : {}) };
  } catch (error) {
    return { ok: false, sentAt, latencyMs: performance.now() - started, error: describe(error) };
  }
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export const round1 = (n: number) => (Number.isFinite(n) ? Math.round(n * 10) / 10 : null);

export interface LatencySummary {
  calls: number;
  errors: number;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
}

export function summarise(outcomes: CallOutcome[], pick: (o: CallOutcome) => number | undefined = (o) => o.latencyMs): LatencySummary {
  const sorted = outcomes
    .filter((o) => o.ok)
    .map(pick)
    .filter((v): v is number => v !== undefined)
    .sort((a, b) => a - b);
  return {
    calls: outcomes.length,
    errors: outcomes.filter((o) => !o.ok).length,
    p50Ms: round1(percentile(sorted, 50)),
    p95Ms: round1(percentile(sorted, 95)),
    p99Ms: round1(percentile(sorted, 99)),
  };
}

/**
 * `concurrency` clients back to back: `warmupMs` unmeasured, then a measured
 * window of `durationMs` — extended, up to `maxDurationMs`, until at least
 * `minCalls` calls sent in it have succeeded, so a target slower than the
 * window still gets figures. Latency percentiles are over the calls sent in
 * the window; throughput counts the calls that completed in it (whenever
 * sent). `window` fires at the window's edges (e.g. to read CPU counters).
 */
export async function runClosedLoop<T extends CallOutcome = CallOutcome>(
  call: (i: number) => Promise<T>,
  concurrency: number,
  o: { warmupMs: number; durationMs: number; minCalls?: number; maxDurationMs?: number; onStart?: () => void; onEnd?: () => void },
): Promise<{ outcomes: T[]; completedInWindow: number; callsPerSecond: number; windowMs: number }> {
  const outcomes: T[] = [];
  const completions: number[] = [];
  let counter = 0;
  let okSentInWindow = 0;
  const measureFrom = performance.now() + o.warmupMs;
  const minEnd = measureFrom + o.durationMs;
  const hardEnd = measureFrom + Math.max(o.durationMs, o.maxDurationMs ?? o.durationMs);
  const startTimer = setTimeout(() => o.onStart?.(), o.warmupMs);
  let windowEnd: number | undefined;
  const isOpen = () => {
    if (windowEnd !== undefined) return false;
    const now = performance.now();
    if (now < minEnd || (okSentInWindow < (o.minCalls ?? 0) && now < hardEnd)) return true;
    windowEnd = now;
    o.onEnd?.();
    return false;
  };
  // Closes the window on time even while every client is waiting on a slow call.
  const ticker = setInterval(isOpen, 100);
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (isOpen()) {
        const sentAt = performance.now();
        const outcome = await call(counter++);
        if (outcome.ok) completions.push(performance.now());
        // Every call sent in the window counts for latency, however late it returns.
        if (sentAt >= measureFrom) {
          outcomes.push(outcome);
          if (outcome.ok) okSentInWindow++;
        }
      }
    }),
  );
  clearTimeout(startTimer);
  clearInterval(ticker);
  const end = windowEnd ?? performance.now();
  const windowMs = end - measureFrom;
  const completedInWindow = completions.filter((t) => t >= measureFrom && t <= end).length;
  return { outcomes, completedInWindow, callsPerSecond: Math.round((completedInWindow / windowMs) * 10_000) / 10, windowMs: Math.round(windowMs) };
}

/**
 * Open loop: one call every 1000/rate ms for `durationMs`, whatever the
 * answers; when `maxInFlight` calls are outstanding a beat is skipped (and
 * counted) rather than queued. Resolves when every call sent has finished.
 */
export async function runOpenLoop<T = CallOutcome>(
  call: (i: number) => Promise<T>,
  o: { ratePerSecond: number; durationMs: number; maxInFlight: number; at?: Array<{ afterMs: number; run: () => Promise<void> | void }> },
): Promise<{ outcomes: T[]; skipped: number; startedAt: number }> {
  const startedAt = Date.now();
  const pending: Array<Promise<T>> = [];
  const events = [...(o.at ?? [])].sort((a, b) => a.afterMs - b.afterMs);
  let inFlight = 0;
  let skipped = 0;
  for (let i = 0; ; i++) {
    const dueMs = (i * 1000) / o.ratePerSecond;
    if (dueMs >= o.durationMs) break;
    const waitMs = startedAt + dueMs - Date.now();
    if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
    while (events.length > 0 && events[0]!.afterMs <= Date.now() - startedAt) await events.shift()!.run();
    if (inFlight >= o.maxInFlight) {
      skipped++;
      continue;
    }
    inFlight++;
    pending.push(call(i).finally(() => inFlight--));
  }
  for (const event of events) {
    const waitMs = startedAt + event.afterMs - Date.now();
    if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
    await event.run();
  }
  return { outcomes: await Promise.all(pending), skipped, startedAt };
}
