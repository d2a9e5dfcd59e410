/**
 * `make bench` / `make bench-smoke`: the benchmark and chaos suite on an
 * isolated copy of the local stack, Switchboard side by side with Portkey's
 * open-source gateway. Writes results.json, results.md and SVG charts.
 *
 *   npx tsx bench/suite/main.ts [--smoke | --quick] [--parts overhead,faults,scale,crashes,stack[,cluster]] [--scenarios a,b] [--out DIR] [--no-peer] [--cpu-prof DIR]
 *   npx tsx bench/suite/main.ts --render bench/results/latest/results.json [--readme]   # redraw results.md and the charts (and the README's block) only
 *
 * Default output: bench/results/latest/ plus a dated copy bench/results/<date>/
 * (smoke: bench/results/tmp/smoke/, not kept). Exits 1 when an invariant
 * broke (a lost call, a part that crashed or overran its budget), never
 * because something was slow. docs/benchmarks.md explains every scenario.
 * Part `cluster` (part 1 on the production topology, bench/suite/cluster.ts)
 * runs only when named in --parts; it needs the Temporal server binaries
 * (scripts/ensure-temporal-server.sh, as make bench PARTS=cluster provides).
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { connect } from 'nats';
import { createSwitchboardClient } from '../../lib/client';
import { drawCharts } from './charts';
import { measureCluster, stopBenchCluster } from './cluster';
import { measureCrashes } from './crashes';
import { startFloor } from './floor';
import { measureFaults, SCENARIOS, SICK_ORGANISATION, type GatewayUnderTest } from './faults';
import { describeMachine, finishMachine } from './machine';
import { directSpec, measureOverhead, type OverheadTargetSpec } from './overhead';
import { ensurePortkeyInstalled, poolConfigHeader, PORTKEY_VERSION, singleUpstreamHeaders, startPortkey } from './portkey';
import { renderReadmeBlock, renderReport, replaceReadmeBlock } from './report';
import { measureScale } from './scale';
import { ROOT, stopAll, stopService } from './services';
import { sizesFor, type SuiteSize } from './sizes';
import { FIRST_TOKEN_TIMEOUT_MS, startBenchStack, TENANT_KEY, type BenchStack } from './stack';
import { measureStack } from './stack-faults';
import type { PartName, PartOutcome, SuiteResult } from './suite-result';
import { invariantFailures } from './invariants';
import { vendorAdmin } from './vendor-admin';
import { workerPool } from './workers';
import { benchDataConverter } from '../payload-keys';

const { values } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    parts: { type: 'string', default: 'overhead,faults,scale,crashes,stack' },
    out: { type: 'string' },
    'no-peer': { type: 'boolean', default: false },
    /** Part 2's scenarios by id, comma-separated (default: the size's own list). */
    scenarios: { type: 'string' },
    /** Part 1's gateway, worker and floor processes write V8 CPU profiles (node --cpu-prof) into DIR/<process>/, one per thread. */
    'cpu-prof': { type: 'string' },
    /** Redraw results.md and the charts beside an existing results.json; measures nothing. */
    render: { type: 'string' },
    /** With --render: also rewrite the README's block of latest figures. */
    readme: { type: 'boolean', default: false },
  },
});
const size: SuiteSize = values.smoke ? 'smoke' : values.quick ? 'quick' : 'default';
const sizes = sizesFor(size);
const parts = new Set(values.parts.split(',').map((p) => p.trim()) as PartName[]);
const suiteStartedAt = performance.now();
const log = (line: string) => {
  const s = Math.round((performance.now() - suiteStartedAt) / 1000);
  process.stdout.write(`[${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}] ${line}\n`);
};

/**
 * Runs a part within its budget; a part that throws or overruns is reported,
 * and the suite goes on. An overrunning part is not cancelled — its load may
 * overlap the next part's — so its failure fails the run and no figure of it
 * is kept.
 */
async function runPart<T>(name: PartName, budgetMs: number, fn: () => Promise<T>): Promise<PartOutcome<T>> {
  log(`— ${name} (budget ${budgetMs / 1000} s)`);
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const overran = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`over its ${budgetMs / 1000} s budget`)), budgetMs)));
    const result = await Promise.race([fn(), overran]);
    return { ok: true, durationMs: Math.round(performance.now() - started), budgetMs, result };
  } catch (error) {
    log(`${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return { ok: false, durationMs: Math.round(performance.now() - started), budgetMs, error: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

let stack: BenchStack | undefined;

// Ctrl-C (or a CI timeout) must not leave the stack behind: Temporal and NATS run detached.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping every process the suite started`);
    void stopAll()
      .then(() => stopBenchCluster())
      .then(() => stack?.close())
      .finally(() => process.exit(130));
  });
}

async function main(): Promise<number> {
  const machine = describeMachine();
  log(`switchboard bench (${size}) on ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, load ${machine.loadAverageAtStart.join(' ')}`);
  const runDir = mkdtempSync(join(tmpdir(), 'sb-bench-'));
  const result: SuiteResult = {
    suite: 'switchboard-bench',
    size,
    command: `npx tsx bench/suite/main.ts ${process.argv.slice(2).join(' ')}`.trim(),
    machine,
    peer: { package: '@portkey-ai/gateway', version: PORTKEY_VERSION, startCommand: 'node build/start-server.js --port=<port> --headless', routing: '' },
    failures: [],
    totalDurationMs: 0,
  };
  let connection: Connection | undefined;
  try {
    let portkeyDir: string | undefined;
    if (values['no-peer']) result.peer.skipped = '--no-peer';
    else if (!parts.has('overhead') && !parts.has('faults')) result.peer.skipped = 'no part asked for runs it';
    else {
      try {
        portkeyDir = ensurePortkeyInstalled(log);
      } catch (error) {
        result.peer.skipped = `install failed: ${String(error)}`;
        result.failures.push(`the peer could not be installed: ${String(error)}`);
      }
    }
    log('starting the stack (Temporal dev server, nats-server, fake vendor)');
    stack = await startBenchStack(join(runDir, 'run'));
    const s = stack;
    const admin = vendorAdmin(s.vendorUrl);
    const portkey = portkeyDir ? await startPortkey(portkeyDir, join(runDir, 'run', 'logs')) : undefined;
    if (portkey) {
      result.peer.routing = `one upstream with \`x-portkey-provider: openai\` + \`x-portkey-custom-host: <fake vendor>/v1\`; the fault scenarios' upstream set as \`x-portkey-config\` (fallback over a weighted loadbalance of the three OpenAI organisations, then Anthropic; \`request_timeout\` ${FIRST_TOKEN_TIMEOUT_MS} ms per target)`;
    }

    if (parts.has('overhead')) {
      result.overhead = await runPart('overhead', sizes.overhead.budgetMs, async () => {
        const o = sizes.overhead;
        // One directory per process: node writes one profile per thread (the SDK runs workflows on worker threads).
        const profile = (name: string) => (values['cpu-prof'] ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${join(values['cpu-prof'], name)}`] } : {});
        const worker = await s.startWorker({ name: 'overhead-worker', taskQueue: 'bench-overhead', cluster: 'bench-overhead', ...profile('worker') });
        const gateway = await s.startGateway({
          name: 'overhead-gateway',
          taskQueue: 'bench-overhead',
          cluster: 'bench-overhead',
          inProcessWorker: true,
          ...profile('gateway'),
        });
        // The same gateway with the hand-off off: its calls answer when Temporal has stored the completion, as the floor's do.
        const afterCompletion = await s.startGateway({
          name: 'overhead-gateway-no-handoff',
          taskQueue: 'bench-overhead',
          cluster: 'bench-overhead',
          inProcessWorker: true,
          answerHandoff: false,
        });
        const floor = await startFloor({
          temporalAddress: s.temporalAddress,
          vendorUrl: s.vendorUrl,
          vendorKey: s.keys.OPENAI_ORG_A_KEY!,
          runDir: s.runDir,
          ...profile('floor'),
        });
        try {
          const vendorProcess = { name: 'fake-vendor', pid: s.vendor.pid, own: false };
          // A Switchboard row: its gateway, the shared worker process and the stack are charged to it, the vendor is not.
          const switchboardSpec = (
            name: string,
            processName: string,
            via: { url: string; service: { pid: number } },
            description: string,
            extra: { streams?: boolean } = {},
          ): OverheadTargetSpec => ({
            target: { name, baseURL: `${via.url}/v1`, apiKey: TENANT_KEY, model: 'chat-default' },
            description,
            processes: [
              { name: processName, pid: via.service.pid, own: true },
              { name: 'worker', pid: worker.pid, own: true },
              ...s.infrastructure.map((p) => ({ ...p, own: true })),
              vendorProcess,
            ],
            durationMs: o.switchboardDurationMs,
            maxDurationMs: o.switchboardMaxDurationMs,
            ...extra,
          });
          const specs: OverheadTargetSpec[] = [
            directSpec({ vendorUrl: s.vendorUrl, apiKey: s.keys.OPENAI_ORG_A_KEY!, vendorPid: s.vendor.pid, durationMs: o.durationMs, streams: true }),
            ...(portkey
              ? [
                  {
                    target: {
                      name: 'portkey',
                      baseURL: `${portkey.url}/v1`,
                      apiKey: s.keys.OPENAI_ORG_A_KEY!,
                      model: 'gpt-4o-mini',
                      headers: singleUpstreamHeaders(s.vendorUrl),
                    },
                    description: 'openai SDK → Portkey gateway → fake vendor',
                    processes: [{ name: 'portkey', pid: portkey.service.pid, own: true }, vendorProcess],
                    durationMs: o.durationMs,
                    maxDurationMs: o.switchboardMaxDurationMs,
                  },
                ]
              : []),
            {
              target: { name: 'floor', baseURL: `${floor.url}/v1`, apiKey: 'unused', model: 'gpt-4o-mini' },
              description: 'openai SDK → one eagerly started workflow with one local activity (same Temporal server) → fake vendor',
              processes: [{ name: 'floor', pid: floor.service.pid, own: true }, ...s.infrastructure.map((p) => ({ ...p, own: true })), vendorProcess],
              durationMs: o.switchboardDurationMs,
              maxDurationMs: o.switchboardMaxDurationMs,
            },
            switchboardSpec('switchboard', 'gateway', gateway, 'openai SDK → Switchboard gateway → llmCall workflow (Temporal) → fake vendor', {
              streams: true,
            }),
            switchboardSpec(
              'switchboard-no-handoff',
              'gateway-no-handoff',
              afterCompletion,
              'the same, SB_ANSWER_HANDOFF=false: every answer waits until Temporal has stored the call’s completion',
            ),
          ];
          return { concurrency: o.concurrency, targets: await measureOverhead(specs, { concurrency: o.concurrency, warmupMs: o.warmupMs, log }) };
        } finally {
          await Promise.all([stopService(gateway.service), stopService(afterCompletion.service), stopService(worker), stopService(floor.service)]);
        }
      });
    }

    if (parts.has('faults')) {
      result.faults = await runPart('faults', sizes.faults.budgetMs, async () => {
        const f = sizes.faults;
        const chosen = values.scenarios ? values.scenarios.split(',').map((s) => s.trim()) : f.scenarios;
        const scenarios = chosen === 'all' ? SCENARIOS : SCENARIOS.filter((x) => chosen.includes(x.id));
        const startSwitchboard = (id: string) => async (): Promise<GatewayUnderTest> => {
          const names = { taskQueue: `bench-faults-${id}`, cluster: `bench-faults-${id}` };
          const [worker, gateway] = await Promise.all([
            s.startWorker({ name: `faults-${id}-worker`, ...names }),
            s.startGateway({ name: `faults-${id}-gateway`, ...names, inProcessWorker: true }),
          ]);
          return {
            target: { name: 'switchboard', baseURL: `${gateway.url}/v1`, apiKey: TENANT_KEY, model: 'chat-default' },
            stop: async () => void (await Promise.all([stopService(gateway.service), stopService(worker)])),
          };
        };
        const peer = portkey
          ? async (): Promise<GatewayUnderTest> => ({
              target: {
                name: 'portkey',
                baseURL: `${portkey.url}/v1`,
                apiKey: 'unused-the-config-carries-the-keys',
                model: 'gpt-4o-mini',
                headers: poolConfigHeader({ vendorUrl: s.vendorUrl, keys: s.keys, requestTimeoutMs: FIRST_TOKEN_TIMEOUT_MS }),
              },
              stop: async () => undefined,
            })
          : undefined;
        const runs = await measureFaults(scenarios, (scenario) => [...(peer ? [peer] : []), startSwitchboard(scenario.id)], admin, f, log);
        return {
          timing: { ratePerSecond: f.ratePerSecond, beforeMs: f.beforeMs, faultMs: f.faultMs, afterMs: f.afterMs, maxInFlight: f.maxInFlight },
          sickUpstream: SICK_ORGANISATION,
          scenarios: runs,
        };
      });
    }
    if (portkey) await stopService(portkey.service);

    if (parts.has('scale') || parts.has('crashes')) {
      connection = await Connection.connect({ address: s.temporalAddress });
      const client = new Client({ connection, dataConverter: benchDataConverter });
      const sb = createSwitchboardClient({ client, taskQueue: 'bench-workers' });
      const pool = workerPool(s, { taskQueue: 'bench-workers', cluster: 'bench-workers', log });
      try {
        if (parts.has('scale')) {
          result.scale = await runPart('scale', sizes.scale.budgetMs, () => measureScale(sb, pool, s.infrastructure, { ...sizes.scale, log }));
        }
        if (parts.has('crashes')) {
          result.crashes = await runPart('crashes', sizes.crashes.budgetMs, () => measureCrashes(sb, client, pool, admin, s.organisations, sizes.crashes, log));
        }
      } finally {
        await pool.stop();
      }
    }

    if (parts.has('cluster')) {
      result.cluster = await runPart('cluster', sizes.cluster.budgetMs, () => measureCluster(s, sizes.cluster, process.env, log));
    }

    // Last: it stops and restarts the stack's own servers.
    if (parts.has('stack')) {
      result.stack = await runPart('stack', sizes.stack.budgetMs, async () => {
        const nats = await connect({ servers: s.natsUrl, name: 'bench-stack', maxReconnectAttempts: -1 });
        try {
          return await measureStack(s, admin, nats, sizes.stack, log);
        } finally {
          await nats.close().catch(() => undefined);
        }
      });
    }
  } catch (error) {
    result.failures.push(`the suite crashed: ${error instanceof Error ? error.message : String(error)}`);
    log(`the suite crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  } finally {
    await stopAll();
    await stack?.close().catch((error: unknown) => log(`stopping the stack: ${String(error)}`));
    await connection?.close().catch(() => undefined);
  }

  result.failures.push(...invariantFailures(result, parts));
  result.machine = finishMachine(result.machine);
  result.totalDurationMs = Math.round(performance.now() - suiteStartedAt);
  writeResults(result, runDir);
  rmSync(runDir, { recursive: true, force: true });
  log(result.failures.length ? `FAILED: ${result.failures.join('; ')}` : `done in ${Math.round(result.totalDurationMs / 1000)} s; every invariant held`);
  return result.failures.length ? 1 : 0;
}

/** results.md and the charts; returns the charts' file names. */
function writeReport(result: SuiteResult, out: string): string[] {
  const charts = drawCharts(result);
  for (const [name, svg] of Object.entries(charts)) writeFileSync(join(out, name), svg);
  writeFileSync(join(out, 'results.md'), renderReport(result, Object.keys(charts)));
  return Object.keys(charts);
}

function writeResults(result: SuiteResult, runDir: string): void {
  const out = values.out ?? join(ROOT, 'bench', 'results', size === 'smoke' ? 'tmp/smoke' : 'latest');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'results.json'), `${JSON.stringify(result, null, 2)}\n`);
  writeReport(result, out);
  // Service logs of a failed run help more than its figures; they stay with the results.
  if (result.failures.length) cpSync(join(runDir, 'run', 'logs'), join(out, 'logs'), { recursive: true });
  log(`results in ${relative(process.cwd(), out) || out}`);
  if (!values.out && size !== 'smoke') {
    const dated = join(ROOT, 'bench', 'results', result.machine.date.slice(0, 10));
    rmSync(dated, { recursive: true, force: true });
    cpSync(out, dated, { recursive: true });
    log(`copy in ${relative(process.cwd(), dated)}`);
  }
}

/** `--render`: the report of an earlier run, redrawn (e.g. after a chart fix) from its own results.json. */
function render(path: string): number {
  const result = JSON.parse(readFileSync(path, 'utf8')) as SuiteResult;
  if (result.suite !== 'switchboard-bench') throw new Error(`${path} is not a results.json of bench/suite (suite: ${String(result.suite)})`);
  const charts = writeReport(result, dirname(path));
  log(`redrew ${relative(process.cwd(), dirname(path)) || dirname(path)}`);
  if (values.readme) {
    const readmePath = join(ROOT, 'README.md');
    writeFileSync(readmePath, replaceReadmeBlock(readFileSync(readmePath, 'utf8'), renderReadmeBlock(result, charts)));
    log('rewrote the latest-figures block of README.md');
  }
  return 0;
}

(values.render ? Promise.resolve().then(() => render(values.render!)) : main()).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    void stopAll().finally(() => process.exit(1));
  },
);
