/**
 * What the commands an answered `llmCall` adds to the floor cost: the bare
 * one-local-activity workflow, and the same with the search attributes set at
 * start, the outcome's upserted at completion, the CALL_SHAPE patch marker,
 * and all of them — on a fresh local stack (Temporal dev server on SQLite in
 * WAL mode, as `make up`), eager starts, one client, interleaved rounds.
 * Prints p50/p90 latency and the Temporal server's CPU ms per call (from
 * /proc). The activity answers at once: what is measured is Temporal's part.
 *
 *   set -a; eval "$(scripts/ensure-binaries.sh)"; set +a
 *   npx tsx bench/call-shape/main.ts [--rounds 8] [--per-round 40]
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { callStartSearchAttributes } from '../../contracts/names';
import { findFreePorts } from '../../lib/ports';
import { startLocalStack, stopLocalStack } from '../../services/local-stack/stack';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '8' }, 'per-round': { type: 'string', default: '40' } } });
const rounds = Number(values.rounds);
const perRound = Number(values['per-round']);

/** utime + stime of a process so far, in ms. */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;

const variants = [
  { name: 'floor', workflow: 'bare', startAttributes: false },
  { name: '+ search attributes at start', workflow: 'bare', startAttributes: true },
  { name: '+ start and outcome upsert', workflow: 'withOutcome', startAttributes: true },
  { name: '+ patch marker', workflow: 'withPatch', startAttributes: false },
  { name: 'all three (an answered call)', workflow: 'withBoth', startAttributes: true },
];

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const dataDir = mkdtempSync(join(tmpdir(), 'call-shape-'));
  const [temporalPort, natsPort, natsMonitorPort] = await findFreePorts(3);
  const stack = await startLocalStack({ dataDir, temporalPort: temporalPort!, natsPort: natsPort!, natsMonitorPort: natsMonitorPort! });
  const temporalPid = stack.processes.find((p) => p.name === 'temporal')!.pid;
  const connection = await NativeConnection.connect({ address: stack.temporalAddress });
  const taskQueue = `call-shape-${randomUUID().slice(0, 8)}`;
  const completion = JSON.stringify({ choices: [{ message: { role: 'assistant', content: 'x'.repeat(600) } }] });
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowBundle: await bundleWorkflowCode({ workflowsPath: require.resolve('./workflows'), logger: new DefaultLogger('ERROR') }),
    activities: { answer: async () => completion },
  });
  const running = worker.run();
  const client = new Client({ connection });
  const startAttributes = callStartSearchAttributes({ tenant: 'acme', route: 'chat-default' });
  const once = async (v: (typeof variants)[number]) => {
    const started = performance.now();
    await client.workflow.execute(v.workflow, {
      taskQueue,
      workflowId: `call-shape-${randomUUID()}`,
      args: ['Suggest a headline for a bakery.'],
      requestEagerStart: true,
      ...(v.startAttributes ? { typedSearchAttributes: startAttributes } : {}),
    });
    return performance.now() - started;
  };
  try {
    for (const v of variants) for (let i = 0; i < 20; i++) await once(v);
    const figures = variants.map(() => ({ ms: [] as number[], temporalCpuMs: 0 }));
    for (let round = 0; round < rounds; round++) {
      for (const [i, v] of variants.entries()) {
        const cpuBefore = cpuMsOf(temporalPid);
        for (let n = 0; n < perRound; n++) figures[i]!.ms.push(await once(v));
        figures[i]!.temporalCpuMs += cpuMsOf(temporalPid) - cpuBefore;
      }
    }
    for (const [i, v] of variants.entries()) {
      const f = figures[i]!;
      console.log(
        `${v.name.padEnd(30)} ${f.ms.length} calls  p50 ${percentile(f.ms, 0.5).toFixed(1)} ms  p90 ${percentile(f.ms, 0.9).toFixed(1)} ms  Temporal CPU ${(f.temporalCpuMs / f.ms.length).toFixed(2)} ms per call`,
      );
    }
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
    await stopLocalStack(dataDir);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
