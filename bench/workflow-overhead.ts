/**
 * What one llmCall costs the worker beyond the vendor: sequential calls on
 * the local stack (`make up` must be running), workflow code bundled with
 * and without `preloadModules` (modules evaluated once per reusable V8
 * context instead of once per workflow run). Prints ms per call and worker
 * CPU ms per call; writes bench/results/workflow-overhead.json.
 *   npx tsx bench/workflow-overhead.ts [--calls 60]
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, Runtime } from '@temporalio/worker';
import { createSwitchboardClient } from '../lib/client';
import { parseConfig, resolveSecrets } from '../lib/config/load';
import { createLogger } from '../lib/log';
import { startFakeVendor } from '../services/fake-vendor';
import { createSwitchboardWorker } from '../services/worker/worker';
import { benchDataConverter } from './payload-keys';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '60' },
    temporal: { type: 'string', default: '127.0.0.1:7233' },
    nats: { type: 'string', default: 'nats://127.0.0.1:4222' },
  },
});
const calls = Number(values.calls);

/** CPU ms the local stack's Temporal dev server has used so far (from `make up`'s pid file), if it is ours. */
function temporalCpuMs(): number | undefined {
  try {
    const pidFile = '.data/pids/temporal.pid';
    if (!existsSync(pidFile)) return undefined;
    const pid = (JSON.parse(readFileSync(pidFile, 'utf8')) as { pid: number }).pid;
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const vendor = await startFakeVendor({
    config: { organisations: [{ id: 'openai/bench', protocol: 'openai', keys: [{ name: 'k', key: 'sk-fake-bench-key' }] }] },
  });
  const config = parseConfig({
    providers: { openai: { protocol: 'openai', baseUrl: `${vendor.url}/v1`, upstreams: [{ name: 'bench', apiKeyEnv: 'BENCH_KEY' }] } },
    routes: { bench: { entries: [{ provider: 'openai', model: 'gpt-4o-mini' }] } },
  });
  const secrets = resolveSecrets(config, { BENCH_KEY: 'sk-fake-bench-key' });
  const connection = await Connection.connect({ address: values.temporal });
  const client = new Client({ connection, dataConverter: benchDataConverter });
  const results: Record<string, { msPerCall: number; cpuMsPerCall: number; temporalCpuMsPerCall?: number }> = {};
  for (const variant of ['plain', 'preload-zod'] as const) {
    const { code } = await bundleWorkflowCode({
      workflowsPath: require.resolve('../workflows/index'),
      ...(variant === 'preload-zod' ? { preloadModules: ['zod'] } : {}),
      logger: { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: console.error },
    });
    const path = `/tmp/sb-bench-bundle-${variant}.js`;
    writeFileSync(path, code);
    const taskQueue = `bench-${randomUUID()}`;
    const sb = await createSwitchboardWorker({
      config,
      secrets,
      temporalAddress: values.temporal,
      natsUrl: values.nats,
      taskQueue,
      log: createLogger({ level: 'silent' }),
      workflowBundlePath: path,
      cluster: taskQueue,
      controlBucket: `sb_control_bench_${taskQueue.slice(6, 14)}`,
      dataConverter: benchDataConverter,
    });
    const running = sb.run();
    const typed = createSwitchboardClient({ client, taskQueue });
    for (let i = 0; i < 5; i++) await typed.complete({ route: 'bench', messages: [{ role: 'user', content: `warm-up ${i}` }] });
    const cpuBefore = process.cpuUsage();
    const temporalBefore = temporalCpuMs();
    const started = performance.now();
    for (let i = 0; i < calls; i++) await typed.complete({ route: 'bench', messages: [{ role: 'user', content: `${variant} ${i}` }] });
    const elapsed = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    const temporalAfter = temporalCpuMs();
    results[variant] = {
      msPerCall: round(elapsed / calls),
      cpuMsPerCall: round((cpu.user + cpu.system) / 1000 / calls),
      ...(temporalBefore !== undefined && temporalAfter !== undefined ? { temporalCpuMsPerCall: round((temporalAfter - temporalBefore) / calls) } : {}),
    };
    const r = results[variant];
    console.log(
      `${variant.padEnd(12)} ${r.msPerCall} ms per call; CPU per call: ${r.cpuMsPerCall} ms here (worker + client + fake vendor), ${r.temporalCpuMsPerCall ?? '?'} ms Temporal dev server`,
    );
    sb.shutdown();
    await running;
  }
  await connection.close();
  await vendor.close();
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/workflow-overhead.json',
    JSON.stringify(
      {
        benchmark: 'workflow-overhead',
        date: new Date().toISOString(),
        machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version },
        calls,
        results,
      },
      null,
      2,
    ),
  );
}

const round = (n: number) => Math.round(n * 10) / 10;
main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
