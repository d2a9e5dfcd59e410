/**
 * Latency the gateway adds over calling the fake vendor directly, and its
 * throughput, on an isolated local stack (Temporal dev server + nats-server
 * in a temp dir). Two set-ups of the gateway process:
 *   - `eager`: a Switchboard worker inside the gateway process on the same
 *     Temporal connection, workflow starts with requestEagerStart;
 *   - `separate`: the gateway only starts workflows; a worker process runs them.
 * Each runs at concurrency 1, 10 and 50 (non-streaming) and measures stream
 * TTFT at concurrency 1 and 10; with `separate`, the typed Temporal client
 * without the gateway is measured too. The fake vendor runs in this process.
 *
 *   npx tsx bench/gateway.ts [--duration-ms 4000] [--warmup-ms 1000] [--modes eager,separate] [--temporal host:port --nats nats://...]
 *
 * Prints a table and writes bench/results/gateway.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { createSwitchboardClient } from '../lib/client';
import { findFreePorts } from '../lib/ports';
import { startFakeVendor } from '../services/fake-vendor';
import { hashApiKey } from '../services/gateway/tenants';
import { startLocalStack, stopLocalStack } from '../services/local-stack/stack';
import { runCallLoad, runLoad, type LoadResult, type LoadTarget } from './gateway-load';
import { benchDataConverter, benchPayloadEnv } from './payload-keys';

const { values } = parseArgs({
  options: {
    'duration-ms': { type: 'string', default: '4000' },
    'warmup-ms': { type: 'string', default: '1000' },
    modes: { type: 'string', default: 'eager,separate' },
    /** Use a running stack instead of starting one (e.g. a dev server without --db-filename). */
    temporal: { type: 'string' },
    nats: { type: 'string' },
  },
});
const durationMs = Number(values['duration-ms']);
const warmupMs = Number(values['warmup-ms']);
const modes = values.modes.split(',') as Array<'eager' | 'separate'>;
const ROOT = join(__dirname, '..');
const VENDOR_KEY = 'sk-bench-vendor-1';
const TENANT_KEY = 'sk-bench-tenant-1';
const CONCURRENCY = [1, 10, 50];
const STREAM_CONCURRENCY = [1, 10];

function spawnService(script: string, env: Record<string, string>, ready: RegExp): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'info', ...benchPayloadEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      const match = ready.exec(output);
      if (match) resolve({ child, match });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${script} exited ${code}:\n${output}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

const chatBody = (model: string, stream: boolean) => (i: number) =>
  JSON.stringify({
    model,
    messages: [{ role: 'user', content: `bench question ${i}` }],
    ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  });

function print(label: string, r: LoadResult, direct?: LoadResult): void {
  const added = direct ? ` added p50 ${(r.p50Ms - direct.p50Ms).toFixed(2)} p99 ${(r.p99Ms - direct.p99Ms).toFixed(2)}` : '';
  const own = r.gatewayOwnP50Ms !== undefined ? ` gateway-own p50 ${r.gatewayOwnP50Ms} p99 ${r.gatewayOwnP99Ms}` : '';
  const ttft =
    r.ttftP50Ms !== undefined
      ? ` ttft p50 ${r.ttftP50Ms} p99 ${r.ttftP99Ms}${direct?.ttftP50Ms !== undefined ? ` (added ${(r.ttftP50Ms - direct.ttftP50Ms).toFixed(2)})` : ''}`
      : '';
  console.log(
    `${label.padEnd(22)} c=${String(r.concurrency).padEnd(3)} ${String(r.callsPerSecond).padStart(8)} calls/s  p50 ${r.p50Ms} p90 ${r.p90Ms} p99 ${r.p99Ms} ms  errors ${r.errors}${added}${own}${ttft}`,
  );
}

async function main(): Promise<void> {
  const runDir = mkdtempSync(join(tmpdir(), 'sb-gateway-bench-'));
  const [temporalPort, natsPort, natsMonitorPort] = await findFreePorts(3);
  const stack =
    values.temporal && values.nats
      ? { temporalAddress: values.temporal, natsUrl: values.nats, dataDir: undefined }
      : await startLocalStack({
          dataDir: join(runDir, 'stack'),
          temporalPort: temporalPort!,
          natsPort: natsPort!,
          natsMonitorPort: natsMonitorPort!,
          readyTimeoutMs: 120_000,
        });
  const vendor = await startFakeVendor({
    config: {
      seed: 3,
      organisations: [{ id: 'openai/bench', protocol: 'openai', rpm: 1_000_000_000, tpm: 1_000_000_000_000, keys: [{ name: 'b', key: VENDOR_KEY }] }],
    },
  });
  const children: ChildProcess[] = [];
  try {
    const { code } = await bundleWorkflowCode({
      workflowsPath: join(ROOT, 'workflows/index.ts'),
      logger: { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: console.error },
    });
    const bundlePath = join(runDir, 'bundle.js');
    writeFileSync(bundlePath, code);
    const configPath = join(runDir, 'switchboard.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        providers: { openai: { protocol: 'openai', baseUrl: `${vendor.url}/v1`, upstreams: [{ name: 'bench', apiKeyEnv: 'SB_BENCH_KEY' }] } },
        routes: { bench: { entries: [{ provider: 'openai', model: 'gpt-4o-mini' }] } },
        // The bench measures the gateway's overhead, not admission: its one key sends no user, unlimited.
        gateway: {
          tenants: [{ id: 'bench', keys: [{ name: 'bench', sha256: hashApiKey(TENANT_KEY) }] }],
          admission: { perTenant: {}, perKey: {}, anonymous: {} },
        },
      }),
    );
    const direct: Record<string, LoadResult> = {};
    const directTarget = (stream: boolean): LoadTarget => ({
      url: `${vendor.url}/v1/chat/completions`,
      headers: { authorization: `Bearer ${VENDOR_KEY}` },
      body: chatBody('gpt-4o-mini', stream),
      stream,
    });
    for (const c of CONCURRENCY) print('direct', (direct[`c${c}`] = await runLoad(directTarget(false), c, warmupMs, durationMs)));
    for (const c of STREAM_CONCURRENCY) print('direct stream', (direct[`s${c}`] = await runLoad(directTarget(true), c, warmupMs, durationMs)));

    const results: Record<string, Record<string, LoadResult>> = { direct };
    for (const mode of modes) {
      const taskQueue = `bench-${mode}`;
      const env = {
        SB_CONFIG: configPath,
        TEMPORAL_ADDRESS: stack.temporalAddress,
        NATS_URL: stack.natsUrl,
        SB_TASK_QUEUE: taskQueue,
        SB_WORKFLOW_BUNDLE: bundlePath,
        SB_BENCH_KEY: VENDOR_KEY,
        SB_CLUSTER: taskQueue,
      };
      if (mode === 'separate') children.push((await spawnService('services/worker/main.ts', env, /worker started/)).child);
      const gateway = await spawnService(
        'services/gateway/main.ts',
        { ...env, SB_GATEWAY_PORT: '0', SB_GATEWAY_WORKER: String(mode === 'eager') },
        /"url":"(http:[^"]+)"[^\n]*gateway listening/,
      );
      children.push(gateway.child);
      const url = gateway.match[1]!;
      const target = (stream: boolean): LoadTarget => ({
        url: `${url}/v1/chat/completions`,
        headers: { authorization: `Bearer ${TENANT_KEY}` },
        body: chatBody('bench', stream),
        stream,
      });
      const own: Record<string, LoadResult> = {};
      for (const c of CONCURRENCY) print(`gateway ${mode}`, (own[`c${c}`] = await runLoad(target(false), c, warmupMs, durationMs)), direct[`c${c}`]);
      for (const c of STREAM_CONCURRENCY)
        print(`gateway ${mode} stream`, (own[`s${c}`] = await runLoad(target(true), c, warmupMs, durationMs)), direct[`s${c}`]);
      if (mode === 'separate') {
        // The same workflows through the typed client, no gateway: what Temporal itself costs.
        const connection = await Connection.connect({ address: stack.temporalAddress });
        const sb = createSwitchboardClient({ client: new Client({ connection, dataConverter: benchDataConverter }), taskQueue });
        const call = (i: number) => sb.complete({ route: 'bench', messages: [{ role: 'user', content: `bench question ${i}` }] });
        for (const c of CONCURRENCY)
          print(
            'typed client (no gw)',
            (results.client = { ...results.client, [`c${c}`]: await runCallLoad(call, c, warmupMs, durationMs) })[`c${c}`]!,
            direct[`c${c}`],
          );
        await connection.close();
      }
      const starts = [...(await (await fetch(`${url}/metrics`)).text()).matchAll(/^sb_gateway_workflow_starts_total\{eager="(true|false)"\} (\d+)/gm)];
      console.log(`gateway ${mode}: workflow starts ${starts.map((m) => `eager=${m[1]}: ${m[2]}`).join(', ') || 'none'}`);
      results[mode] = own;
      for (const child of children.splice(0)) await stop(child);
    }
    const summary = Object.fromEntries(
      modes.map((mode) => [
        mode,
        {
          addedP50MsAtC10: +(results[mode]!.c10!.p50Ms - direct.c10!.p50Ms).toFixed(2),
          addedP99MsAtC10: +(results[mode]!.c10!.p99Ms - direct.c10!.p99Ms).toFixed(2),
          saturationCallsPerSecond: Math.max(...CONCURRENCY.map((c) => results[mode]![`c${c}`]!.callsPerSecond)),
          gatewayOwnP50MsAtC10: results[mode]!.c10!.gatewayOwnP50Ms,
          gatewayOwnP99MsAtC10: results[mode]!.c10!.gatewayOwnP99Ms,
          addedTtftP50MsAtC1: +((results[mode]!.s1!.ttftP50Ms ?? NaN) - (direct.s1!.ttftP50Ms ?? NaN)).toFixed(2),
        },
      ]),
    );
    console.log(JSON.stringify(summary, null, 2));
    mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
    writeFileSync(
      join(ROOT, 'bench', 'results', 'gateway.json'),
      `${JSON.stringify({ date: new Date().toISOString(), machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, platform: `${process.platform}-${process.arch}`, loadAverageAtEnd: loadavg() }, durationMs, warmupMs, summary, results }, null, 2)}\n`,
    );
  } finally {
    for (const child of children) await stop(child);
    await vendor.close();
    if (stack.dataDir) await stopLocalStack(stack.dataDir);
    rmSync(runDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
