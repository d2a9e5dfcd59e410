/**
 * Breakers under load: four OpenAI organisations behind three worker
 * processes, 100 calls/s open-loop; one organisation dies (every request a
 * 503) at t = 10 s and heals at t = 25 s. Measures what the issue asks:
 * client-visible errors, requests the dead organisation got after its first
 * failure, time to eject it, time back in service after it heals. Runs on its
 * own isolated stack (Temporal dev server + nats-server on free ports) and an
 * in-process fake vendor.
 *
 *   set -a; eval "$(scripts/ensure-binaries.sh)"; set +a
 *   npx tsx bench/breakers.ts [--rate 100] [--die-at-ms 10000] [--heal-at-ms 25000] [--duration-ms 40000]
 *
 * Prints the figures and writes bench/results/breakers.json with the machine described.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { connect, JSONCodec } from 'nats';
import { createSwitchboardClient } from '../lib/client';
import { requestHealthViews } from '../lib/health-registry/health-view';
import { findFreePorts } from '../lib/ports';
import { BreakerEvent } from '../schemas/health';
import type { SwitchboardConfigInput } from '../schemas/config';
import { startFakeVendor } from '../services/fake-vendor';
import { startLocalStack, stopLocalStack } from '../services/local-stack/stack';
import { breakerWorkflowId } from '../contracts/names';
import { breakerKeyOf } from '../lib/health';
import { benchDataConverter, benchPayloadEnv } from './payload-keys';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '100' },
    'die-at-ms': { type: 'string', default: '10000' },
    'heal-at-ms': { type: 'string', default: '18000' },
    'duration-ms': { type: 'string', default: '28000' },
    /** Calls in flight beyond which the generator skips a beat (the machine cannot keep the rate); reported. */
    'max-in-flight': { type: 'string', default: '300' },
  },
});
const rate = Number(values.rate);
const dieAtMs = Number(values['die-at-ms']);
const healAtMs = Number(values['heal-at-ms']);
const durationMs = Number(values['duration-ms']);
const maxInFlight = Number(values['max-in-flight']);
/** How long calls still in flight at the end may take before they are counted as unfinished. */
const DRAIN_MS = 30_000;
const ROOT = resolve(__dirname, '..');
const ORGS = ['a', 'b', 'c', 'd'] as const;
const DEAD = 'd';
const THRESHOLD = 3;
const cluster = 'bench';
const taskQueue = 'bench-breakers';

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-bench-breakers-'));
  const [temporalPort, natsPort, natsMonitorPort] = await findFreePorts(3);
  const stack = await startLocalStack({
    dataDir,
    temporalPort: temporalPort!,
    natsPort: natsPort!,
    natsMonitorPort: natsMonitorPort!,
    readyTimeoutMs: 120_000,
  });
  const vendor = await startFakeVendor({
    config: {
      seed: 9,
      organisations: ORGS.map((o) => ({
        id: `openai/bench-${o}`,
        protocol: 'openai' as const,
        rpm: 1_000_000,
        tpm: 1_000_000_000,
        keys: [{ name: o, key: `sk-bench-${o}` }],
      })),
    },
  });
  const config: SwitchboardConfigInput = {
    providers: {
      openai: {
        protocol: 'openai',
        baseUrl: `${vendor.url}/v1`,
        upstreams: ORGS.map((o) => ({ name: `org-${o}`, apiKeyEnv: `SB_BENCH_KEY_${o.toUpperCase()}` })),
      },
    },
    routes: { chat: { entries: [{ provider: 'openai', model: 'gpt-4o-mini' }] } },
    retry: { initialIntervalMs: 20, maxIntervalMs: 200, maxAttemptsPerEntry: 4, maxAttempts: 8 },
    health: { windowMs: 30_000, bucketMs: 1_000, consecutiveFailures: THRESHOLD },
    breaker: { baseCooldownMs: 1_000, maxCooldownMs: 2_000, jitterRatio: 0.1 },
  };
  const configPath = join(dataDir, 'switchboard.json');
  writeFileSync(configPath, JSON.stringify(config));
  const { code } = await bundleWorkflowCode({ workflowsPath: resolve(ROOT, 'workflows/index.ts'), logger: new DefaultLogger('ERROR') });
  const bundlePath = join(dataDir, 'workflow-bundle.js');
  writeFileSync(bundlePath, code);

  const pods: ChildProcess[] = [0, 1, 2].map(() =>
    spawn(process.execPath, ['--import', 'tsx', 'services/worker/main.ts'], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        ...benchPayloadEnv,
        SB_CONFIG: configPath,
        TEMPORAL_ADDRESS: stack.temporalAddress,
        NATS_URL: stack.natsUrl,
        SB_TASK_QUEUE: taskQueue,
        SB_CLUSTER: cluster,
        SB_WORKFLOW_BUNDLE: bundlePath,
        LOG_LEVEL: 'error',
        ...Object.fromEntries(ORGS.map((o) => [`SB_BENCH_KEY_${o.toUpperCase()}`, `sk-bench-${o}`])),
      },
    }),
  );
  const nats = await connect({ servers: stack.natsUrl });
  const connection = await Connection.connect({ address: stack.temporalAddress });
  const client = new Client({ connection, dataConverter: benchDataConverter });
  const sb = createSwitchboardClient({ client, taskQueue });
  const events: BreakerEvent[] = [];
  const codec = JSONCodec<unknown>();
  nats.subscribe('sb.breaker.>', { callback: (_e, m) => events.push(BreakerEvent.parse(codec.decode(m.data))) });
  try {
    const upBy = Date.now() + 120_000;
    for (let ready = 0; ready < 3;) {
      if (Date.now() > upBy) throw new Error('the three workers did not come up within 120 s');
      ready = (await requestHealthViews(nats, cluster, 300)).length;
    }
    console.log('three workers up');
    // Warm-up: every pod's JIT, connections and sticky caches, at a tenth of the rate.
    await Promise.all(Array.from({ length: 30 }, (_, i) => sb.complete({ route: 'chat', messages: [{ role: 'user', content: `warm-up ${i}` }] })));

    const outcomes: Array<Promise<{ ok: boolean; error?: string }>> = [];
    const t0 = Date.now();
    let died = 0;
    let healed = 0;
    let inFlight = 0;
    let skipped = 0;
    let done = 0;
    const progress = setInterval(
      () => console.log(`t=${((Date.now() - t0) / 1000).toFixed(0)}s sent ${outcomes.length} done ${done} in flight ${inFlight} skipped ${skipped}`),
      5_000,
    );
    for (let i = 0; Date.now() - t0 < durationMs; i++) {
      const due = t0 + (i * 1000) / rate;
      const waitMs = due - Date.now();
      if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
      if (!died && Date.now() - t0 >= dieAtMs) {
        died = Date.now();
        vendor.setFault({ organisation: `openai/bench-${DEAD}`, fault: { kind: 'status', status: 503 } });
      }
      if (!healed && Date.now() - t0 >= healAtMs) {
        healed = Date.now();
        vendor.clearFaults(`openai/bench-${DEAD}`);
      }
      if (inFlight >= maxInFlight) {
        skipped += 1;
        continue;
      }
      inFlight += 1;
      outcomes.push(
        sb
          .complete({ route: 'chat', messages: [{ role: 'user', content: `load ${i}` }] })
          .then(
            () => ({ ok: true }),
            (e: unknown) => ({ ok: false, error: String(e) }),
          )
          .finally(() => {
            inFlight -= 1;
            done += 1;
          }),
      );
    }
    const sentMs = Date.now() - t0;
    const unfinished = { ok: false, error: 'unfinished' };
    const settled = await Promise.all(
      outcomes.map((o) => Promise.race([o, new Promise<typeof unfinished>((r) => setTimeout(() => r(unfinished), DRAIN_MS).unref())])),
    );
    clearInterval(progress);

    const upstream = `openai/org-${DEAD}`;
    const mine = events.filter((e) => e.upstream === upstream);
    const dead = vendor.requests({ organisation: `openai/bench-${DEAD}` });
    const firstFailure = dead.find((r) => r.time >= died && r.status === 503);
    const opened = mine.find((e) => e.transition === 'opened' && e.at >= died);
    const firstHalfOpen = mine.find((e) => e.transition === 'half_open' && e.at >= died);
    const closedAfterHeal = mine.find((e) => e.transition === 'closed' && e.at >= healed);
    const beforeProbes = dead.filter((r) => firstFailure && r.time >= firstFailure.time && r.time < (firstHalfOpen?.at ?? Infinity));
    const lastBeforeProbes = beforeProbes.at(-1);
    const result = {
      rate,
      calls: settled.length,
      sentOverMs: sentMs,
      sentRatePerS: Math.round((settled.length / sentMs) * 1000),
      skippedBecauseMachineBehind: skipped,
      unfinishedAfterDrain: settled.filter((o) => o === unfinished).length,
      clientVisibleErrors: settled.filter((o) => !o.ok && o !== unfinished).length,
      firstErrors: settled
        .filter((o) => !o.ok && o !== unfinished)
        .slice(0, 3)
        .map((o) => o.error),
      threshold: THRESHOLD,
      deadOrgRequestsAfterFirstFailure: Math.max(0, beforeProbes.length - 1),
      deadOrgFailuresBeforeEjection: beforeProbes.length,
      timeToOpenMs: opened && firstFailure ? opened.at - firstFailure.time : null,
      timeToEjectMs: lastBeforeProbes && firstFailure ? lastBeforeProbes.time - firstFailure.time : null,
      probesWhileDead: dead.filter((r) => r.time >= (firstHalfOpen?.at ?? Infinity) && r.time < healed).length,
      backInServiceAfterHealMs: closedAfterHeal ? closedAfterHeal.at - healed : null,
      firstSuccessAfterHealMs: (() => {
        const ok = dead.find((r) => r.time >= healed && r.status === 200);
        return ok ? ok.time - healed : null;
      })(),
      transitions: mine.map((e) => ({ atMs: e.at - t0, transition: e.transition, cause: e.cause })),
    };
    console.log(JSON.stringify(result, null, 2));
    const out = resolve(__dirname, 'results/breakers.json');
    mkdirSync(resolve(__dirname, 'results'), { recursive: true });
    writeFileSync(
      out,
      `${JSON.stringify(
        {
          benchmark: 'breakers',
          command: `npx tsx bench/breakers.ts --rate ${rate} --die-at-ms ${dieAtMs} --heal-at-ms ${healAtMs} --duration-ms ${durationMs} --max-in-flight ${maxInFlight}`,
          date: new Date().toISOString(),
          machine: {
            cpu: cpus()[0]?.model ?? 'unknown',
            cores: cpus().length,
            node: process.version,
            platform: `${process.platform}-${process.arch}`,
            loadAverage1m: loadavg()[0],
          },
          setup: {
            organisations: ORGS.length,
            workers: '3 worker processes',
            route: 'one vendor, no fallback (a client error means the breaker failed us)',
            health: config.health,
            breaker: config.breaker,
          },
          result,
        },
        null,
        2,
      )}\n`,
    );
    console.log(`wrote ${out}`);
  } finally {
    // Each organisation's own supervisor and its model's (health is per upstream and model).
    const keys = ORGS.flatMap((o) => [`openai/org-${o}`, breakerKeyOf(`openai/org-${o}`, 'gpt-4o-mini')]);
    await Promise.allSettled(keys.map((key) => client.workflow.getHandle(breakerWorkflowId(key, cluster)).terminate('bench over')));
    for (const pod of pods) pod.kill('SIGTERM');
    await Promise.all(pods.map((p) => new Promise((r) => (p.exitCode !== null ? r(undefined) : p.once('exit', r)))));
    await nats.drain().catch(() => undefined);
    await vendor.close();
    // The stack first: closing the client while calls still retry makes grpc throw out of a timer.
    await stopLocalStack(dataDir);
    await connection.close().catch(() => undefined);
  }
}

// Calls still retrying against the stopped server must not crash the report on the way out.
process.on('uncaughtException', (error) => console.error(`ignored on shutdown: ${error.message}`));

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
