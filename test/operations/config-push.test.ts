/**
 * The cluster-wide config: `switchboard config push <file>` (the real CLI
 * process) writes a validated document to the KV bucket every pod follows; a
 * worker process started with SB_CONFIG_BUCKET reloads it without a restart.
 * A document the CLI rejects never reaches the bucket; one a pod cannot serve
 * (a key it does not hold) is rejected by that pod, which keeps serving.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import type { SwitchboardConfigInput } from '../../schemas/config';
import { eventually, startSwitchboard, type SwitchboardUnderTest } from '../harness/switchboard';
import { serviceEnv, startWorkerOnFreePort, writeConfigFile, type WorkerProcess, WORKER_START_MS } from '../harness/worker-process';

const root = resolve(__dirname, '../..');

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/cli/main.ts', ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((done) => child.once('exit', (code) => done({ code, output })));
}

describe('switchboard config push', () => {
  let t: SwitchboardUnderTest;
  let worker: WorkerProcess | undefined;
  let metricsUrl: string;
  let env: NodeJS.ProcessEnv;
  const bucket = `sb_config_test_${randomUUID().slice(0, 8)}`;

  const configWith = (vendorUrl: string, upstreams: Array<{ name: string; apiKeyEnv: string }>): SwitchboardConfigInput => ({
    providers: { pool: { protocol: 'openai', baseUrl: `${vendorUrl}/v1`, upstreams } },
    routes: { pushed: { entries: [{ provider: 'pool', model: 'gpt-4o-mini' }] } },
    retry: { initialIntervalMs: 50, maxIntervalMs: 500, maxAttemptsPerEntry: 3, maxAttempts: 6 },
    health: { consecutiveFailures: 10_000, minCallsForRate: 10_000, rateLimitPersistCount: 10_000 },
  });
  const metric = async (pattern: RegExp) => {
    const match = pattern.exec(await (await fetch(metricsUrl)).text());
    return match ? Number(match[1]) : undefined;
  };

  beforeAll(async () => {
    t = await startSwitchboard({ withWorker: false });
    const configPath = writeConfigFile(configWith(t.vendor.url, [{ name: 'org-s', apiKeyEnv: 'SB_TEST_KEY_SOLO' }]));
    let healthPort: number;
    ({ worker, healthPort } = await startWorkerOnFreePort({
      configPath,
      taskQueue: t.taskQueue,
      controlBucket: t.controlBucket,
      env: { SB_CONFIG_BUCKET: bucket },
    }));
    metricsUrl = `http://127.0.0.1:${healthPort}/metrics`;
    env = serviceEnv({
      configPath,
      taskQueue: t.taskQueue,
      controlBucket: t.controlBucket,
      env: { SB_HEALTH_PORT: String(healthPort), SB_CONFIG_BUCKET: bucket },
    });
  }, WORKER_START_MS + 30_000);
  afterAll(async () => {
    worker?.kill('SIGTERM');
    await worker?.exited;
    await t?.nats
      .jetstreamManager()
      .then((jsm) => jsm.streams.delete(`KV_${bucket}`))
      .catch(() => undefined);
    await t?.close();
  });

  it('pushes a new organisation to every pod following the bucket', async () => {
    const file = writeConfigFile(
      configWith(t.vendor.url, [
        { name: 'org-s', apiKeyEnv: 'SB_TEST_KEY_SOLO' },
        { name: 'org-c', apiKeyEnv: 'SB_TEST_KEY_OPENAI_C' },
      ]),
    );
    const pushed = await runCli(['config', 'push', file], env);
    expect(pushed).toMatchObject({ code: 0 });
    expect(pushed.output).toContain(`pushed to ${bucket}`);
    await eventually('the pushed config to be applied', async () => ((await metric(/^sb_config_generation (\d+)/m)) === 2 ? true : undefined), 20_000);
    const m = `pushed-${randomUUID().slice(0, 8)}`;
    for (let i = 0; i < 12 && t.vendor.requests({ organisation: 'openai/org-c', contains: [m] }).length === 0; i++) {
      await t.sb.complete({ route: 'pushed', messages: [{ role: 'user', content: `Hello ${m} ${i}` }] });
    }
    expect(t.vendor.requests({ organisation: 'openai/org-c', contains: [m] }).length).toBeGreaterThan(0);
    expect(worker!.output()).toContain(`"configSource":"kv:${bucket}/document@`);
  });

  it('refuses an invalid file before it reaches the bucket, naming the field', async () => {
    const bad = configWith(t.vendor.url, [{ name: 'org-s', apiKeyEnv: 'not-a-var' }]);
    const pushed = await runCli(['config', 'push', writeConfigFile(bad)], env);
    expect(pushed.code).toBe(2);
    expect(pushed.output).toContain('providers.pool.upstreams[0].apiKeyEnv');
    expect(await metric(/^sb_config_reloads_total\{result="rejected"\} (\d+)/m)).toBe(0);
  });

  it('a pod rejects a document it cannot serve and keeps the previous config', async () => {
    const file = writeConfigFile(configWith(t.vendor.url, [{ name: 'org-s', apiKeyEnv: 'SB_KEY_THIS_POD_LACKS' }]));
    expect((await runCli(['config', 'push', file], env)).code).toBe(0);
    await eventually(
      'the pod to reject it',
      async () => ((await metric(/^sb_config_reloads_total\{result="rejected"\} (\d+)/m)) === 1 ? true : undefined),
      20_000,
    );
    expect(worker!.output()).toContain('SB_KEY_THIS_POD_LACKS (providers.pool.upstreams: org-s)');
    expect(await metric(/^sb_config_generation (\d+)/m)).toBe(2);
    const result = await t.sb.complete({ route: 'pushed', messages: [{ role: 'user', content: 'still serving' }] });
    expect(['pool/org-s', 'pool/org-c']).toContain(result.upstream);
  });
});
