/**
 * Throughput of the fake vendor: non-streaming chat completions over
 * keep-alive connections, no faults. The vendor runs in its own process (its
 * own core on a 2-core machine); this process only generates load. The
 * default client writes pre-built HTTP/1.1 requests on raw keep-alive
 * sockets and reads just the status and content-length of each answer, one
 * request in flight per connection: node:http's client costs more CPU per
 * request than the vendor does, and on two cores would measure itself.
 * `--client http` uses node:http with a keep-alive agent instead (needed for
 * `--stream`, whose answers are chunked).
 *
 *   npx tsx bench/fake-vendor.ts [--duration-ms 10000] [--concurrency 64] [--client raw|http] [--stream]
 *
 * Prints requests/s and latency percentiles and writes bench/results/fake-vendor.json.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    'duration-ms': { type: 'string', default: '10000' },
    'warmup-ms': { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '64' },
    stream: { type: 'boolean', default: false },
    client: { type: 'string', default: 'raw' },
  },
});
const clientKind = values.stream || values.client === 'http' ? 'http' : 'raw';
const durationMs = Number(values['duration-ms']);
const warmupMs = Number(values['warmup-ms']);
const concurrency = Number(values.concurrency);
const ROOT = join(__dirname, '..');
const KEY = 'sk-bench-org-1';

const config = {
  seed: 1,
  organisations: [{ id: 'openai/bench', protocol: 'openai', rpm: 1_000_000_000, tpm: 1_000_000_000_000, keys: [{ name: 'bench-1', key: KEY }] }],
};

async function startVendorProcess(): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'fake-vendor-bench-'));
  const configPath = join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify(config));
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/fake-vendor/main.ts', '--config', configPath, '--port', '0'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const found = /"url":"([^"]+)"/.exec(output);
      if (found?.[1] !== undefined) resolve(found[1]);
    });
    child.once('exit', (code) => reject(new Error(`fake vendor exited with ${code}: ${output}`)));
  });
  return {
    url,
    pid: child.pid ?? 0,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        rmSync(dir, { recursive: true, force: true });
      }),
  };
}

const body = JSON.stringify({
  model: 'gpt-4o',
  messages: [
    { role: 'system', content: 'You are a helpful assistant for a website builder.' },
    { role: 'user', content: 'Suggest a headline for a bakery landing page.' },
  ],
  stream: values.stream,
});

function send(agent: Agent, url: URL): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: '/v1/chat/completions',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.on('data', () => undefined);
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const HEADER_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /\r\ncontent-length:\s*(\d+)/i;

/** One keep-alive connection sending the same request back to back; calls `onResponse(status, latencyMs)`. */
function rawConnection(url: URL, onResponse: (status: number, latencyMs: number) => void, isRunning: () => boolean): Promise<void> {
  const wire = Buffer.from(
    `POST /v1/chat/completions HTTP/1.1\r\nhost: ${url.host}\r\nauthorization: Bearer ${KEY}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: keep-alive\r\n\r\n${body}`,
  );
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(Number(url.port), url.hostname);
    socket.setNoDelay(true);
    let pending: Buffer = Buffer.alloc(0);
    let startedAt = 0;
    const sendNext = (): void => {
      if (!isRunning()) {
        socket.end();
        return;
      }
      startedAt = performance.now();
      socket.write(wire);
    };
    socket.on('connect', sendNext);
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      for (;;) {
        const headerEnd = pending.indexOf(HEADER_END);
        if (headerEnd < 0) return;
        const head = pending.toString('latin1', 0, headerEnd);
        const length = Number(CONTENT_LENGTH.exec(head)?.[1] ?? Number.NaN);
        if (Number.isNaN(length)) {
          socket.destroy(new Error(`response without content-length: ${head}`));
          return;
        }
        const total = headerEnd + HEADER_END.length + length;
        if (pending.length < total) return;
        onResponse(Number(head.slice(9, 12)), performance.now() - startedAt);
        pending = pending.subarray(total);
        sendNext();
      }
    });
    socket.on('close', () => resolve());
    socket.on('error', reject);
  });
}

/**
 * CPU time the vendor process has used, from /proc (Linux): with other work
 * on the machine, CPU per request is the steadier figure than requests/s.
 */
function cpuMsOf(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    // utime and stime are fields 14 and 15 of stat, in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function main(): Promise<void> {
  const vendor = await startVendorProcess();
  const url = new URL(vendor.url);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let errors = 0;
  let measuring = false;
  let running = true;

  const worker = async (): Promise<void> => {
    while (running) {
      const started = performance.now();
      try {
        record(await send(agent, url), performance.now() - started);
      } catch {
        if (measuring) errors++;
      }
    }
  };

  const record = (status: number, latencyMs: number): void => {
    if (!measuring) return;
    if (status === 200) latencies.push(latencyMs);
    else errors++;
  };
  const workers =
    clientKind === 'raw'
      ? Array.from({ length: concurrency }, () =>
          rawConnection(url, record, () => running).catch(() => {
            if (measuring) errors++;
          }),
        )
      : Array.from({ length: concurrency }, () => worker());
  await new Promise((resolve) => setTimeout(resolve, warmupMs));
  measuring = true;
  const startedAt = performance.now();
  const cpuBeforeMs = cpuMsOf(vendor.pid);
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  measuring = false;
  const elapsedMs = performance.now() - startedAt;
  const cpuAfterMs = cpuMsOf(vendor.pid);
  const vendorCpuMs = cpuBeforeMs !== undefined && cpuAfterMs !== undefined ? cpuAfterMs - cpuBeforeMs : undefined;
  running = false;
  await Promise.all(workers);
  agent.destroy();
  const health = (await (await fetch(`${vendor.url}/_admin/health`)).json()) as { loggedRequests: number };
  await vendor.stop();

  const sorted = Float64Array.from(latencies).sort();
  const round = (n: number) => Math.round(n * 100) / 100;
  const result = {
    benchmark: 'fake-vendor',
    mode: values.stream ? 'streaming chat completions' : 'non-streaming chat completions',
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, platform: `${process.platform}-${process.arch}` },
    setup: {
      concurrency,
      durationMs,
      warmupMs,
      client: clientKind === 'raw' ? 'raw keep-alive sockets, one request in flight each, this process' : 'node:http keep-alive agent, this process',
      server: 'separate process',
      faults: 'none',
    },
    results: {
      requests: latencies.length,
      errors,
      requestsPerSecond: Math.round((latencies.length / elapsedMs) * 1000),
      latencyMs: {
        p50: round(percentile(sorted, 50)),
        p90: round(percentile(sorted, 90)),
        p99: round(percentile(sorted, 99)),
        max: round(sorted[sorted.length - 1] ?? Number.NaN),
      },
      vendorLoggedRequests: health.loggedRequests,
      vendorCpuUtilisation: vendorCpuMs === undefined ? null : round(vendorCpuMs / elapsedMs),
      vendorCpuMsPerRequest: vendorCpuMs === undefined ? null : Math.round((vendorCpuMs / latencies.length) * 1000) / 1000,
      /** What one fully available core would serve at that CPU cost. */
      vendorRequestsPerCoreSecond: vendorCpuMs === undefined || vendorCpuMs === 0 ? null : Math.round((latencies.length / vendorCpuMs) * 1000),
    },
  };
  process.stdout.write(
    `fake vendor, ${result.mode}, ${clientKind} client, ${concurrency} connections, ${durationMs / 1000}s: ${result.results.requestsPerSecond} req/s, ` +
      `p50 ${result.results.latencyMs.p50} ms, p99 ${result.results.latencyMs.p99} ms, errors ${errors}; ` +
      `vendor CPU ${result.results.vendorCpuUtilisation} cores, ${result.results.vendorCpuMsPerRequest} ms/request ` +
      `(≈ ${result.results.vendorRequestsPerCoreSecond} req/s per core)\n`,
  );
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', values.stream ? 'fake-vendor-streaming.json' : 'fake-vendor.json'), `${JSON.stringify(result, null, 2)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
