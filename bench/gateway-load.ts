/**
 * Closed-loop load for bench/gateway.ts: `concurrency` clients, each sending
 * its next request when the last one finished, over node:http keep-alive
 * connections, so the gateway and the direct vendor calls are measured the
 * same way.
 */
import { Agent, request } from 'node:http';

export interface LoadTarget {
  url: string;
  headers: Record<string, string>;
  body: (i: number) => string;
  /** Streams: latency is time to the first content chunk, not to the end. */
  stream?: boolean;
}

export interface LoadResult {
  concurrency: number;
  calls: number;
  errors: number;
  callsPerSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  /** Streams: time to first content chunk. */
  ttftP50Ms?: number;
  ttftP99Ms?: number;
  /** The gateway's own time apart from the workflow (its `server-timing: gateway;dur=`), when it reports one. */
  gatewayOwnP50Ms?: number;
  gatewayOwnP99Ms?: number;
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const round = (n: number) => Math.round(n * 100) / 100;

interface Sample {
  ok: boolean;
  ms: number;
  ttftMs?: number;
  ownMs?: number;
}

function once(agent: Agent, target: LoadTarget, i: number): Promise<Sample> {
  const started = performance.now();
  const body = target.body(i);
  return new Promise((resolve) => {
    const req = request(
      target.url,
      { method: 'POST', agent, headers: { ...target.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let ttftMs: number | undefined;
        const own = /gateway;dur=([\d.]+)/.exec(String(res.headers['server-timing'] ?? ''));
        res.on('data', (chunk: Buffer) => {
          // The role chunk carries `"content":""`; the first token is the first non-empty content.
          if (ttftMs === undefined && target.stream && /"content":\s*"[^"]/.test(chunk.toString())) ttftMs = performance.now() - started;
        });
        res.on('end', () =>
          resolve({
            ok: res.statusCode === 200,
            ms: performance.now() - started,
            ...(ttftMs !== undefined ? { ttftMs } : {}),
            ...(own ? { ownMs: Number(own[1]) } : {}),
          }),
        );
        res.on('error', () => resolve({ ok: false, ms: performance.now() - started }));
      },
    );
    req.on('error', () => resolve({ ok: false, ms: performance.now() - started }));
    req.end(body);
  });
}

/** HTTP load on `target`: `warmupMs` unmeasured, then `durationMs` measured. */
export async function runLoad(target: LoadTarget, concurrency: number, warmupMs: number, durationMs: number): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  try {
    return await runCalls((i) => once(agent, target, i), concurrency, warmupMs, durationMs, target.stream === true);
  } finally {
    agent.destroy();
  }
}

/** Timed load of any call (e.g. the typed Temporal client): `call(i)` resolves ok or not. */
export async function runCallLoad(call: (i: number) => Promise<unknown>, concurrency: number, warmupMs: number, durationMs: number): Promise<LoadResult> {
  const exec = async (i: number) => {
    const started = performance.now();
    const ok = await call(i).then(
      () => true,
      () => false,
    );
    return { ok, ms: performance.now() - started };
  };
  return runCalls(exec, concurrency, warmupMs, durationMs, false);
}

async function runCalls(exec: (i: number) => Promise<Sample>, concurrency: number, warmupMs: number, durationMs: number, stream: boolean): Promise<LoadResult> {
  const latencies: number[] = [];
  const ttfts: number[] = [];
  const owns: number[] = [];
  let errors = 0;
  let counter = 0;
  const measureFrom = performance.now() + warmupMs;
  const stopAt = measureFrom + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < stopAt) {
        const sentAt = performance.now();
        const r = await exec(counter++);
        if (sentAt < measureFrom) continue;
        if (!r.ok) errors++;
        else {
          latencies.push(r.ms);
          if (r.ttftMs !== undefined) ttfts.push(r.ttftMs);
          if (r.ownMs !== undefined) owns.push(r.ownMs);
        }
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  ttfts.sort((a, b) => a - b);
  owns.sort((a, b) => a - b);
  return {
    concurrency,
    calls: latencies.length,
    errors,
    callsPerSecond: round((latencies.length * 1000) / durationMs),
    p50Ms: round(percentile(latencies, 50)),
    p90Ms: round(percentile(latencies, 90)),
    p99Ms: round(percentile(latencies, 99)),
    ...(owns.length ? { gatewayOwnP50Ms: round(percentile(owns, 50)), gatewayOwnP99Ms: round(percentile(owns, 99)) } : {}),
    ...(stream ? { ttftP50Ms: round(percentile(ttfts, 50)), ttftP99Ms: round(percentile(ttfts, 99)) } : {}),
  };
}
