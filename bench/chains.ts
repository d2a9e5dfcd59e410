/**
 * End-to-end time of a 200-call agent chain (the site planner with 198
 * pages: site map → 198 wireframes → checklist) against the sum of the vendor
 * latency on its critical path. Every vendor answer is delayed by a fixed
 * latency fault, so the critical path is known exactly:
 *
 *   latencyMs × (1 site map + ceil(198 / concurrency) fan-out rounds + 1 checklist)
 *
 * and what is left over is Switchboard's overhead (child workflows, activity
 * scheduling, history, NATS events). Runs on its own isolated stack (Temporal
 * dev server + nats-server on free ports), an in-process worker and an
 * in-process fake vendor.
 *
 *   npx tsx bench/chains.ts [--pages 198] [--latency-ms 200] [--concurrency 200,20] [--runs 2]
 *
 * Prints the figures and writes bench/results/chains.json with the machine described.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, Runtime } from '@temporalio/worker';
import { sitePlannerChain } from '../lib/chains/site-planner';
import { createSwitchboardClient, type SwitchboardClient } from '../lib/client';
import { parseConfig, resolveSecrets } from '../lib/config/load';
import { createLogger } from '../lib/log';
import { findFreePorts } from '../lib/ports';
import { startFakeVendor } from '../services/fake-vendor';
import { startLocalStack, stopLocalStack } from '../services/local-stack/stack';
import { createSwitchboardWorker } from '../services/worker/worker';
import { benchDataConverter } from './payload-keys';

const { values } = parseArgs({
  options: {
    pages: { type: 'string', default: '198' },
    'latency-ms': { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '200,20' },
    runs: { type: 'string', default: '2' },
  },
});
const pages = Number(values.pages);
const latencyMs = Number(values['latency-ms']);
const concurrencies = values.concurrency.split(',').map(Number);
const runs = Number(values.runs);
const KEY = 'sk-bench-chain-1';

interface Measurement {
  kind: 'chain' | 'independent calls';
  concurrency: number;
  calls: number;
  endToEndMs: number;
  criticalPathVendorMs: number;
  criticalPathSteps: number;
  overheadMs: number;
  overheadPerCriticalStepMs: number;
  overheadPerCallMs: number;
  /** CPU of this process (worker, client, fake vendor) per call; the Temporal server's is not counted. */
  processCpuMsPerCall: number;
}

/**
 * The baseline: as many independent llmCall workflows as the chain makes, all
 * started at once. Their end-to-end time against one vendor latency is what a
 * call costs without any chain around it.
 */
async function independentCalls(sb: SwitchboardClient, calls: number): Promise<Measurement> {
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: calls }, (_, i) => sb.complete({ route: 'site-planner', messages: [{ role: 'user', content: `Independent call ${i} ${started}` }] })),
  );
  const endToEndMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const overheadMs = endToEndMs - latencyMs;
  const m: Measurement = {
    kind: 'independent calls',
    concurrency: calls,
    calls,
    endToEndMs: Math.round(endToEndMs),
    criticalPathVendorMs: latencyMs,
    criticalPathSteps: 1,
    overheadMs: Math.round(overheadMs),
    overheadPerCriticalStepMs: Math.round(overheadMs),
    overheadPerCallMs: Math.round((overheadMs / calls) * 10) / 10,
    processCpuMsPerCall: Math.round((cpu.user + cpu.system) / 1000 / calls),
  };
  console.log(
    `baseline: ${calls} independent llmCalls at once in ${m.endToEndMs} ms (vendor latency ${latencyMs} ms); ${m.processCpuMsPerCall} CPU-ms per call in the worker process`,
  );
  return m;
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-bench-chains-'));
  const [temporalPort, natsPort, natsMonitorPort] = await findFreePorts(3);
  const stack = await startLocalStack({
    dataDir,
    temporalPort: temporalPort!,
    natsPort: natsPort!,
    natsMonitorPort: natsMonitorPort!,
    readyTimeoutMs: 120_000,
  });
  const vendor = await startFakeVendor({
    config: { seed: 3, organisations: [{ id: 'openai/bench', protocol: 'openai', rpm: 1_000_000, tpm: 1_000_000_000, keys: [{ name: 'bench', key: KEY }] }] },
  });
  vendor.setFault({ organisation: 'openai/bench', fault: { kind: 'latency', ms: latencyMs } });
  const config = parseConfig(
    {
      providers: { openai: { protocol: 'openai', baseUrl: `${vendor.url}/v1`, upstreams: [{ name: 'bench', apiKeyEnv: 'SB_BENCH_KEY' }] } },
      routes: { 'site-planner': { entries: [{ provider: 'openai', model: 'gpt-4o-mini' }] } },
    },
    'bench config',
  );
  const { code } = await bundleWorkflowCode({ workflowsPath: resolve(__dirname, '../workflows/index.ts'), logger: new DefaultLogger('ERROR') });
  const bundlePath = join(dataDir, 'workflow-bundle.js');
  writeFileSync(bundlePath, code);
  const taskQueue = 'bench-chains';
  const worker = await createSwitchboardWorker({
    config,
    secrets: resolveSecrets(config, { SB_BENCH_KEY: KEY }),
    temporalAddress: stack.temporalAddress,
    natsUrl: stack.natsUrl,
    taskQueue,
    log: createLogger({ level: 'silent' }),
    workflowBundlePath: bundlePath,
    controlBucket: 'sb_control_bench',
    dataConverter: benchDataConverter,
    workerOptions: { maxConcurrentActivityTaskExecutions: 400, maxConcurrentWorkflowTaskExecutions: 100 },
  });
  const running = worker.run();
  const connection = await Connection.connect({ address: stack.temporalAddress });
  const sb = createSwitchboardClient({ client: new Client({ connection, dataConverter: benchDataConverter }), taskQueue });
  const results: Measurement[] = [];
  try {
    // Warm-up: JIT, bundle load, connections.
    await sb.runChain({ chain: sitePlannerChain({ maxConcurrency: 8 }), input: { business: 'warm-up', audience: 'x', goals: ['x'], pageCount: 8 } });
    results.push(await independentCalls(sb, pages + 2));
    for (const concurrency of concurrencies) {
      for (let run = 0; run < runs; run++) {
        const input = { business: `Outdoor gear shop ${concurrency}-${run}`, audience: 'hikers', goals: ['sell gear', 'book tours'], pageCount: pages };
        const cpuBefore = process.cpuUsage();
        const started = performance.now();
        const result = await sb.runChain({ chain: sitePlannerChain({ maxConcurrency: concurrency }), input });
        const endToEndMs = performance.now() - started;
        const cpu = process.cpuUsage(cpuBefore);
        const criticalPathSteps = 2 + Math.ceil(pages / concurrency);
        const criticalPathVendorMs = latencyMs * criticalPathSteps;
        const overheadMs = endToEndMs - criticalPathVendorMs;
        const m: Measurement = {
          kind: 'chain',
          concurrency,
          calls: result.calls.length,
          endToEndMs: Math.round(endToEndMs),
          criticalPathVendorMs,
          criticalPathSteps,
          overheadMs: Math.round(overheadMs),
          overheadPerCriticalStepMs: Math.round(overheadMs / criticalPathSteps),
          overheadPerCallMs: Math.round((overheadMs / result.calls.length) * 10) / 10,
          processCpuMsPerCall: Math.round((cpu.user + cpu.system) / 1000 / result.calls.length),
        };
        results.push(m);
        console.log(
          `concurrency ${concurrency}, run ${run + 1}: ${m.calls} calls in ${m.endToEndMs} ms; critical-path vendor latency ${criticalPathVendorMs} ms (${criticalPathSteps} steps × ${latencyMs} ms); overhead ${m.overheadMs} ms = ${m.overheadPerCriticalStepMs} ms per critical-path step, ${m.overheadPerCallMs} ms per call; ${m.processCpuMsPerCall} CPU-ms per call in the worker process`,
        );
      }
    }
  } finally {
    worker.shutdown();
    await running.catch(() => undefined);
    await connection.close().catch(() => undefined);
    await vendor.close();
    await stopLocalStack(dataDir);
  }
  const out = resolve(__dirname, 'results/chains.json');
  mkdirSync(resolve(__dirname, 'results'), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        benchmark: 'chains',
        command: `npx tsx bench/chains.ts --pages ${pages} --latency-ms ${latencyMs} --concurrency ${concurrencies.join(',')} --runs ${runs}`,
        date: new Date().toISOString(),
        machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, platform: `${process.platform}-${process.arch}` },
        setup: {
          pages,
          calls: pages + 2,
          latencyMs,
          worker: 'one in-process worker',
          vendor: 'in-process fake vendor, fixed latency fault',
          stack: 'Temporal dev server (SQLite) + nats-server, isolated',
        },
        results,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`wrote ${out}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
