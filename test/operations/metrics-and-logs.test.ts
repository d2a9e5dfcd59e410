/**
 * Operations: a worker's Prometheus metrics after real traffic, its probes,
 * and the promise that an API key never reaches a log line or an error.
 */
import { randomUUID } from 'node:crypto';
import { isSwitchboardCallError } from '../../lib/client';
import { createBreakerSignals } from '../../lib/health-registry/breaker-signals';
import { eventually, startSwitchboard, switchboardConfig, testSecretsEnv, type SwitchboardUnderTest } from '../harness/switchboard';
import { startWorkerOnFreePort, writeConfigFile, type WorkerProcess, WORKER_START_MS } from '../harness/worker-process';

describe('worker metrics, probes and logs', () => {
  let t: SwitchboardUnderTest;
  let worker: WorkerProcess | undefined;
  let healthPort: number;
  let reported = false;

  beforeAll(async () => {
    t = await startSwitchboard({
      withWorker: false,
      configOverrides: { health: { consecutiveFailures: 10_000, minCallsForRate: 10_000, rateLimitPersistCount: 10_000 } },
    });
    const configPath = writeConfigFile(
      switchboardConfig(t.vendor.url, { health: { consecutiveFailures: 10_000, minCallsForRate: 10_000, rateLimitPersistCount: 10_000 } }),
    );
    ({ worker, healthPort } = await startWorkerOnFreePort({
      configPath,
      taskQueue: t.taskQueue,
      controlBucket: t.controlBucket,
      env: { LOG_LEVEL: 'debug' },
    }));
  }, WORKER_START_MS + 30_000);
  afterEach(async () => {
    // A worker that died mid-file fails every later test with a timeout: say why it died, once.
    const code = await Promise.race([worker?.exited, new Promise((r) => setTimeout(() => r(undefined), 10))]);
    if (code !== undefined && !reported) {
      reported = true;
      console.log(`the spawned worker exited (${String(code)}); its last output:\n${worker?.output().slice(-4_000)}`);
    }
  });
  afterAll(async () => {
    worker?.kill('SIGTERM');
    await worker?.exited;
    await t?.close();
  });

  it('exposes call metrics with route, provider, upstream and outcome labels after traffic', async () => {
    const m = `metrics-${randomUUID().slice(0, 8)}`;
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m, times: 1, fault: { kind: 'status', status: 503 } });
    await t.sb.complete({ route: 'solo-only', messages: [{ role: 'user', content: `Hello ${m}` }] });
    expect((await fetch(`http://127.0.0.1:${healthPort}/healthz`)).status).toBe(200);
    const text = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
    expect(text).toMatch(/sb_attempts_total\{route="solo-only",provider="solo",upstream="solo\/org-s",model="gpt-4o-mini",outcome="retryable"\} 1/);
    expect(text).toMatch(/sb_attempts_total\{route="solo-only",provider="solo",upstream="solo\/org-s",model="gpt-4o-mini",outcome="success"\} 1/);
    expect(text).toMatch(/sb_attempt_duration_seconds_bucket\{le="[^"]+",provider="solo",upstream="solo\/org-s",outcome="success"\}/);
    expect(text).toMatch(/sb_tokens_total\{provider="solo",model="gpt-4o-mini",direction="output"\} [1-9]/);
    expect(text).toMatch(/sb_cost_usd_total\{route="solo-only",provider="solo",model="gpt-4o-mini"\} 0\.0/);
    expect(text).toMatch(/sb_ratelimit_headroom_ratio\{upstream="solo\/org-s",kind="requests"\} 0\.9/);
    // Remaining and limit per upstream, labelled by provider, so an alert can sum a pool.
    const remaining = Number(/sb_ratelimit_remaining\{provider="solo",upstream="solo\/org-s",kind="requests"\} (\d+)/.exec(text)?.[1]);
    const limit = Number(/sb_ratelimit_limit\{provider="solo",upstream="solo\/org-s",kind="requests"\} (\d+)/.exec(text)?.[1]);
    expect(limit).toBeGreaterThan(0);
    expect(remaining).toBeLessThan(limit);
    expect(text).toMatch(/sb_ratelimit_limit\{provider="solo",upstream="solo\/org-s",kind="tokens"\} [1-9]/);
    // Calls, not attempts: one call, recovered after its 503.
    expect(text).toMatch(/sb_calls_total\{route="solo-only",provider="solo",upstream="solo\/org-s",outcome="recovered"\} 1/);
    expect(text).toMatch(/^sb_config_generation 1$/m);
    expect(text).toMatch(/^sb_config_reloads_total\{result="rejected"\} 0$/m);
  });

  it('counts cache hits and misses by route', async () => {
    const question = `Cache me ${randomUUID().slice(0, 8)}`;
    await t.sb.complete({ route: 'cached', messages: [{ role: 'user', content: question }] });
    await t.sb.complete({ route: 'cached', messages: [{ role: 'user', content: question }] });
    const text = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
    expect(text).toMatch(/sb_cache_lookups_total\{route="cached",result="miss"\} [1-9]/);
    expect(text).toMatch(/sb_cache_lookups_total\{route="cached",result="hit"\} [1-9]/);
  });

  it('exposes each breaker as a one-hot state gauge that follows KV sb_breakers', async () => {
    const before = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
    expect(before).toMatch(/sb_breaker_state\{provider="openai",upstream="openai\/org-c",state="closed"\} 1/);
    expect(before).toMatch(/sb_breaker_state\{provider="openai",upstream="openai\/org-c",state="open"\} 0/);
    // An operator forces it open through its supervisor, which writes KV; the worker's watch sees it.
    const signals = createBreakerSignals({ client: t.client, taskQueue: t.taskQueue, cluster: t.taskQueue, policy: t.config.breaker });
    await signals.send('openai/org-c', { kind: 'operator', action: 'open', reason: 'metrics test' });
    const after = await eventually(
      'the forced breaker in the gauge',
      async () => {
        const text = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
        return /sb_breaker_state\{provider="openai",upstream="openai\/org-c",state="forced_open"\} 1/.test(text) ? text : undefined;
      },
      20_000,
    );
    expect(after).toMatch(/sb_breaker_state\{provider="openai",upstream="openai\/org-c",state="closed"\} 0/);
    expect(after).toMatch(/sb_breaker_state\{provider="solo",upstream="solo\/org-s",state="closed"\} 1/);
    await signals.send('openai/org-c', { kind: 'operator', action: 'auto', reason: 'metrics test done' });
  });

  it('never writes an API key to a log line or an error, even when the vendor rejects the key', async () => {
    const m = `locked-${randomUUID().slice(0, 8)}`;
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m, fault: { kind: 'account_locked', reason: 'invalid_key' } });
    t.vendor.setFault({ organisation: 'anthropic/org-a', promptContains: m, fault: { kind: 'account_locked', reason: 'invalid_key' } });
    let error: unknown;
    try {
      await t.sb.complete({ route: 'solo-fallback', messages: [{ role: 'user', content: `Hello ${m}` }] });
    } catch (e) {
      error = e;
    }
    expect(isSwitchboardCallError(error)).toBe(true);
    // The call that gave up is counted once, at the upstream tried last.
    const metrics = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
    expect(metrics).toMatch(/sb_calls_total\{route="solo-fallback",provider="anthropic",upstream="anthropic\/org-a",outcome="failed"\} 1/);
    await eventually('the failed attempts to be logged', () => (worker!.output().includes('"errorType":"authentication"') ? true : undefined), 20_000);
    const everything = `${worker!.output()}\n${JSON.stringify(error)}\n${(error as Error).message}\n${JSON.stringify((error as { attempts?: unknown }).attempts)}`;
    for (const key of Object.values(testSecretsEnv)) {
      expect(everything).not.toContain(key);
      // Vendors echo a key's start and end in their 401 message; even that must not survive.
      expect(everything).not.toContain(key.slice(-6));
    }
  });
});
