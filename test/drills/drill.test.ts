/**
 * Fallback drills on the real stack: a Temporal dev server, nats-server, the
 * fake vendor over real HTTP and a Switchboard worker. The route's fallback
 * (Anthropic) is broken at the vendor; the drill must say so while the
 * primary passes — on `sb.drill.<route>`, in the worker's metrics, in the
 * workflow's result and from the CLI — and the Schedule must exist with the
 * configured interval.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { JSONCodec, type Subscription } from 'nats';
import { parseConfig } from '../../lib/config/load';
import { setFailover } from '../../lib/control/failover';
import { createBreakerSignals } from '../../lib/health-registry/breaker-signals';
import { ensureDrillSchedule } from '../../lib/schedules/drills';
import { DrillReport, DrillRun, drillIntervalMs } from '../../schemas/drill';
import { runDrillWorkflow } from '../../services/cli/drill';
import { BREAKER_CLUSTER_HEADER, breakerWorkflowId, DRILL_TENANT, drillScheduleId, drillSubject } from '../../contracts/names';
import { testPayloadEnv, testStack } from '../harness/env';
import { eventually, readCallEvents, startSwitchboard, switchboardConfig, type SwitchboardUnderTest } from '../harness/switchboard';
import { writeConfigFile } from '../harness/worker-process';

jest.setTimeout(180_000);

const marker = `drill-${randomUUID().slice(0, 8)}`;
const route = 'chat-default';
const drills = { every: '45m', routePrompts: { [route]: [`Say hello (${marker})`] } };
const codec = JSONCodec<unknown>();

let sbt: SwitchboardUnderTest;
let configPath: string;
let tap: Subscription;
const published: DrillReport[] = [];

beforeAll(async () => {
  sbt = await startSwitchboard({ configOverrides: { drills } });
  configPath = writeConfigFile(switchboardConfig(sbt.vendor.url, { drills }));
  tap = sbt.nats.subscribe(drillSubject(route), {
    callback: (_err, message) => {
      if (message.headers?.get(BREAKER_CLUSTER_HEADER) === sbt.taskQueue) published.push(DrillReport.parse(codec.decode(message.data)));
    },
  });
  // The fallback vendor is sick for the drill's prompts: every Anthropic request carrying the marker gets a 503.
  sbt.vendor.setFault({ organisation: 'anthropic/org-a', promptContains: marker, fault: { kind: 'status', status: 503 } });
});

afterAll(async () => {
  tap?.unsubscribe();
  await sbt?.client.schedule
    .getHandle(drillScheduleId(sbt.taskQueue))
    .delete()
    .catch(() => undefined);
  await sbt?.close();
});

async function metricValues(name: string) {
  const metric = sbt.worker!.metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  return (await metric.get()).values;
}

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { temporalAddress, natsUrl } = testStack();
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...testPayloadEnv(),
    SB_CONFIG: configPath,
    TEMPORAL_ADDRESS: temporalAddress,
    NATS_URL: natsUrl,
    SB_TASK_QUEUE: sbt.taskQueue,
    SB_CLUSTER: sbt.taskQueue,
  };
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'services/cli/main.ts', ...args], {
      cwd: resolve(__dirname, '../..'),
      env,
      timeout: 90_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw error;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('drill configuration', () => {
  it('defaults to on, every 6h, and refuses a bad interval or an unknown route naming the field', () => {
    const base = switchboardConfig('http://127.0.0.1:1');
    const parsed = parseConfig(base);
    expect(parsed.drills).toMatchObject({ enabled: true, every: '6h' });
    expect(parsed.drills.prompts.length).toBe(1);
    expect(() => parseConfig({ ...base, drills: { every: '10s' } })).toThrow(/drills\.every.*at least 1m/);
    expect(() => parseConfig({ ...base, drills: { every: 'often' } })).toThrow(/drills\.every.*6h, 30m/);
    expect(() => parseConfig({ ...base, drills: { routePrompts: { nope: ['hi'] } } })).toThrow(/drills\.routePrompts\.nope.*unknown route "nope"/);
    expect(drillIntervalMs('90m')).toBe(5_400_000);
  });
});

describe('the drill schedule', () => {
  it('exists after the worker started, with the configured interval, and re-ensuring it is idempotent', async () => {
    const handle = sbt.client.schedule.getHandle(drillScheduleId(sbt.taskQueue));
    const described = await handle.describe();
    expect(described.spec.intervals).toEqual([expect.objectContaining({ every: 45 * 60_000 })]);
    expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'fallbackDrill', taskQueue: sbt.taskQueue });
    expect(described.policies.overlap).toBe('SKIP');
    // The first run is one interval after creation, so a test's cluster never drills on its own.
    expect(described.spec.startAt!.getTime()).toBeGreaterThan(Date.now() + 40 * 60_000);

    const config = sbt.config.drills;
    await expect(ensureDrillSchedule({ client: sbt.client, taskQueue: sbt.taskQueue, drills: config })).resolves.toBe('unchanged');
    await expect(ensureDrillSchedule({ client: sbt.client, taskQueue: sbt.taskQueue, drills: { ...config, every: '2h' } })).resolves.toBe('updated');
    expect((await handle.describe()).spec.intervals).toEqual([expect.objectContaining({ every: 2 * 3_600_000 })]);
    await expect(ensureDrillSchedule({ client: sbt.client, taskQueue: sbt.taskQueue, drills: config })).resolves.toBe('updated');
    expect((await handle.describe()).spec.intervals).toEqual([expect.objectContaining({ every: 45 * 60_000 })]);
    expect((await handle.describe()).spec.startAt).toEqual(described.spec.startAt);
  });

  it('is deleted when drills are disabled (and disabling twice is harmless)', async () => {
    const disabled = { ...sbt.config.drills, enabled: false };
    await expect(ensureDrillSchedule({ client: sbt.client, taskQueue: sbt.taskQueue, drills: disabled })).resolves.toBe('deleted');
    await expect(sbt.client.schedule.getHandle(drillScheduleId(sbt.taskQueue)).describe()).rejects.toThrow(/not found/i);
    await expect(ensureDrillSchedule({ client: sbt.client, taskQueue: sbt.taskQueue, drills: disabled })).resolves.toBe('absent');
  });
});

describe('a drill with a broken fallback', () => {
  let run: DrillRun;

  beforeAll(async () => {
    run = await runDrillWorkflow(sbt.client, sbt.taskQueue, [route]);
  });

  it('reports the primary passed and the fallback failed, each pinned to its own provider, model and prompt variant', () => {
    expect(run.result).toBe('fail');
    expect(run.trigger).toBe('operator');
    const [report] = run.reports;
    expect(report!.route).toBe(route);
    const [primary, fallback] = report!.entries;
    expect(primary).toMatchObject({ index: 0, role: 'primary', provider: 'openai', model: 'gpt-4o-mini', promptVariant: 'assistant:default', result: 'pass' });
    expect(primary!.samples[0]!.upstream).toMatch(/^openai\/org-[abc]$/);
    expect(primary!.samples[0]!.answerPreview?.length).toBeGreaterThan(0);
    expect(fallback).toMatchObject({
      index: 1,
      role: 'fallback',
      provider: 'anthropic',
      model: 'claude-haiku-4-5',
      promptVariant: 'assistant:anthropic',
      result: 'fail',
    });
    expect(fallback!.samples[0]).toMatchObject({ result: 'fail', upstream: 'anthropic/org-a', outcome: 'retryable', status: 503 });
    expect(primary!.latencyMs).toBeGreaterThan(0);
  });

  it("sent exactly one request per entry, with that entry's prompt variant — no retry, no fallback", () => {
    const seen = sbt.vendor.requests({ contains: [marker], includePrompt: true }).filter((r) => r.time >= run.startedAt && r.time <= run.finishedAt);
    const anthropic = seen.filter((r) => r.protocol === 'anthropic');
    const openai = seen.filter((r) => r.protocol === 'openai');
    expect(anthropic).toHaveLength(1);
    expect(openai).toHaveLength(1);
    expect(anthropic[0]).toMatchObject({ organisation: 'anthropic/org-a', model: 'claude-haiku-4-5', status: 503 });
    expect(anthropic[0]!.promptText).toContain('You are Claude');
    expect(openai[0]).toMatchObject({ model: 'gpt-4o-mini', status: 200 });
    expect(openai[0]!.promptText).not.toContain('You are Claude');
  });

  it('publishes the report on sb.drill.<route>', async () => {
    const event = await eventually('the drill report on NATS', () => published.find((r) => r.drillId === run.drillId));
    expect(event).toEqual(run.reports[0]);
  });

  it('counts it in the metrics', async () => {
    const results = await metricValues('sb_drill_result_total');
    const count = (entry: string, result: string) =>
      results.find((v) => v.labels.route === route && v.labels.entry === entry && v.labels.result === result)?.value ?? 0;
    expect(count('0:openai/gpt-4o-mini', 'pass')).toBeGreaterThanOrEqual(1);
    expect(count('1:anthropic/claude-haiku-4-5', 'fail')).toBeGreaterThanOrEqual(1);
    expect(count('1:anthropic/claude-haiku-4-5', 'pass')).toBe(0);
    const latency = await metricValues('sb_drill_latency_seconds');
    expect(
      latency.find(
        (v) =>
          (v as { metricName?: string }).metricName === 'sb_drill_latency_seconds_count' &&
          v.labels.entry === '1:anthropic/claude-haiku-4-5' &&
          v.labels.result === 'fail',
      )?.value,
    ).toBeGreaterThanOrEqual(1);
    const lastRun = (await metricValues('sb_drill_last_run_timestamp_seconds')).find((v) => v.labels.route === route)?.value ?? 0;
    expect(lastRun * 1000).toBeGreaterThanOrEqual(run.startedAt - 1_000);
  });

  it("emits ordinary CallEvents, so the failure counts for the fallback upstream's health like any other", async () => {
    const events = await eventually(
      "the drill's CallEvents",
      async () => {
        const found = await readCallEvents(sbt.nats, (e) => e.workflowId === run.drillId);
        return found.length >= 2 ? found : undefined;
      },
      30_000,
    );
    expect(events.every((e) => e.tenant === DRILL_TENANT && e.route === route)).toBe(true);
    const failed = events.find((e) => e.provider === 'anthropic')!;
    expect(failed).toMatchObject({ upstream: 'anthropic/org-a', outcome: 'retryable', status: 503 });
    await eventually(
      "the worker's registry to count the drill failure",
      () => sbt.worker!.health.healthOf('anthropic/org-a', failed.model, Date.now()).failures >= 1 || undefined,
    );
  });
});

describe('switchboard drill (CLI)', () => {
  it('prints a table and exits 1 while the fallback fails; --json prints the run and exits 0 once it is healed', async () => {
    const failing = await cli('drill', route);
    expect(failing.code).toBe(1);
    const lines = failing.stdout.split('\n');
    expect(lines[0]).toMatch(/^ROUTE\s+ENTRY\s+ROLE\s+PROMPT VARIANT\s+RESULT\s+UPSTREAM\s+LATENCY\s+DETAIL$/);
    expect(lines.find((l) => l.includes('0:openai/gpt-4o-mini'))).toMatch(/primary\s+assistant:default\s+PASS\s+openai\/org-[abc]\s+\d+ ms/);
    expect(lines.find((l) => l.includes('1:anthropic/claude-haiku-4-5'))).toMatch(
      /fallback\s+assistant:anthropic\s+FAIL\s+anthropic\/org-a\s+\d+ ms\s+retryable \S+ \(503\)/,
    );
    expect(failing.stdout).toMatch(/1 of 2 entries FAILED/);
    expect(failing.stderr).toMatch(/drill .* failed: chat-default/);

    sbt.vendor.clearFaults('anthropic/org-a');
    const healed = await cli('drill', route, '--json');
    expect(healed.code).toBe(0);
    const parsed = DrillRun.parse(JSON.parse(healed.stdout));
    expect(parsed.result).toBe('pass');
    expect(parsed.reports[0]!.entries.map((e) => `${e.provider}:${e.result}`)).toEqual(['openai:pass', 'anthropic:pass']);
  });

  it('refuses an unknown route, naming the known ones (exit 2)', async () => {
    const refused = await cli('drill', 'no-such-route');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/unknown route "no-such-route" \(known: chat-default, /);
  });
});

describe('what a drill exercises', () => {
  it('drills the vendor the failover switch avoids, and fails an entry whose pool is all open without sending it a request', async () => {
    const signals = createBreakerSignals({ client: sbt.client, taskQueue: sbt.taskQueue, cluster: sbt.taskQueue, policy: sbt.config.breaker });
    await setFailover(sbt.nats, 'openai', { by: 'drill test' }, sbt.controlBucket);
    await signals.send('anthropic/org-a', { kind: 'operator', action: 'open', reason: 'drill test' });
    try {
      await eventually('the worker to see the failover switch', () => sbt.worker!.failover.avoidedProvider() === 'openai' || undefined);
      await eventually(
        'the worker to see anthropic/org-a forced open',
        () => sbt.worker!.health.breakers().get('anthropic/org-a')?.state === 'forced_open' || undefined,
        30_000,
      );
      const before = sbt.vendor.requests({ organisation: 'anthropic/org-a' }).length;
      const run = await runDrillWorkflow(sbt.client, sbt.taskQueue, [route]);
      const [primary, fallback] = run.reports[0]!.entries;
      expect(primary).toMatchObject({ provider: 'openai', result: 'pass' });
      expect(fallback).toMatchObject({ provider: 'anthropic', result: 'fail' });
      expect(fallback!.samples[0]).toMatchObject({ outcome: 'no_upstream' });
      expect(fallback!.samples[0]!.upstream).toBeUndefined();
      expect(sbt.vendor.requests({ organisation: 'anthropic/org-a' }).length).toBe(before);
    } finally {
      await setFailover(sbt.nats, null, { by: 'drill test' }, sbt.controlBucket);
      await sbt.client.workflow
        .getHandle(breakerWorkflowId('anthropic/org-a', sbt.taskQueue))
        .terminate('test over')
        .catch(() => undefined);
    }
  });
});
