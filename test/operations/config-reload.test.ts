/**
 * Config without restarts, on the real stack: a worker process follows its
 * config file (mounted the way Kubernetes mounts a ConfigMap: a `..data`
 * symlink swapped atomically) and a key file (a Secret volume). Adding an
 * organisation, changing a prompt variant and rotating a key reach the
 * vendor without a restart; a broken file is rejected, named in the log and
 * the metrics, and the previous config keeps serving.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SwitchboardConfigInput } from '../../schemas/config';
import { eventually, startSwitchboard, testSecretsEnv, type SwitchboardUnderTest } from '../harness/switchboard';
import { startWorkerOnFreePort, type WorkerProcess, WORKER_START_MS } from '../harness/worker-process';

/** A directory laid out like a Kubernetes configMap volume: `name -> ..data/name`, `..data -> ..<version>`. */
function configMapVolume(fileName: string) {
  const dir = mkdtempSync(join(tmpdir(), 'sb-configmap-'));
  let version = 0;
  const publish = (text: string) => {
    version += 1;
    const versionDir = `..v${version}`;
    mkdirSync(join(dir, versionDir));
    writeFileSync(join(dir, versionDir, fileName), text);
    symlinkSync(versionDir, join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    if (version === 1) symlinkSync(join('..data', fileName), join(dir, fileName));
  };
  return { path: join(dir, fileName), publish };
}

/** A Secret-volume file replaced atomically (write aside, rename over). */
function writeAtomically(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

describe('config reload without restarts', () => {
  let t: SwitchboardUnderTest;
  let worker: WorkerProcess | undefined;
  let metricsUrl: string;
  const volume = configMapVolume('switchboard.json');
  const keyFile = join(mkdtempSync(join(tmpdir(), 'sb-secret-')), 'org-s-key');

  const configWith = (
    vendorUrl: string,
    upstreams: NonNullable<SwitchboardConfigInput['providers']>[string]['upstreams'],
    system: string,
  ): SwitchboardConfigInput => ({
    providers: { pool: { protocol: 'openai', baseUrl: `${vendorUrl}/v1`, upstreams } },
    prompts: { helper: { default: { system } } },
    routes: { reloadable: { entries: [{ provider: 'pool', model: 'gpt-4o-mini', prompt: 'helper' }] } },
    retry: { initialIntervalMs: 50, maxIntervalMs: 500, maxAttemptsPerEntry: 3, maxAttempts: 6 },
    timeouts: { attemptMs: 10_000, callMs: 60_000, heartbeatMs: 2_000 },
    // Nothing in this test should trip a breaker.
    health: { consecutiveFailures: 10_000, minCallsForRate: 10_000, rateLimitPersistCount: 10_000 },
  });

  const metric = async (pattern: RegExp): Promise<number | undefined> => {
    const text = await (await fetch(metricsUrl)).text();
    const match = pattern.exec(text);
    return match ? Number(match[1]) : undefined;
  };
  const waitForGeneration = (generation: number) =>
    eventually(`config generation ${generation}`, async () => ((await metric(/^sb_config_generation (\d+)/m)) === generation ? true : undefined), 20_000);
  /** Calls until the vendor has seen one of them from `organisation`; returns how many it took. */
  const callUntilSeenBy = async (organisation: string, marker: string): Promise<number> => {
    for (let i = 1; i <= 12; i++) {
      await t.sb.complete({ route: 'reloadable', messages: [{ role: 'user', content: `Hello ${marker} ${i}` }] });
      if (t.vendor.requests({ organisation, contains: [marker] }).length > 0) return i;
    }
    throw new Error(`no call of ${marker} reached ${organisation}`);
  };

  beforeAll(async () => {
    t = await startSwitchboard({ withWorker: false });
    writeAtomically(keyFile, `${testSecretsEnv.SB_TEST_KEY_SOLO}\n`);
    volume.publish(JSON.stringify(configWith(t.vendor.url, [{ name: 'org-s', apiKeyFile: keyFile }], 'Variant one.')));
    let healthPort: number;
    ({ worker, healthPort } = await startWorkerOnFreePort({
      configPath: volume.path,
      taskQueue: t.taskQueue,
      controlBucket: t.controlBucket,
      env: { SB_CONFIG_POLL_MS: '1000' },
    }));
    metricsUrl = `http://127.0.0.1:${healthPort}/metrics`;
  }, WORKER_START_MS + 30_000);
  afterAll(async () => {
    worker?.kill('SIGTERM');
    await worker?.exited;
    await t?.close();
  });

  it('serves the file it started with', async () => {
    const m = `start-${randomUUID().slice(0, 8)}`;
    const result = await t.sb.complete({ route: 'reloadable', messages: [{ role: 'user', content: `Hello ${m}` }] });
    expect(result.upstream).toBe('pool/org-s');
    const seen = t.vendor.requests({ contains: [m], includePrompt: true });
    expect(seen.map((r) => r.organisation)).toEqual(['openai/org-s']);
    expect(seen[0]?.promptText).toContain('Variant one.');
  });

  it('adds an organisation and a new prompt variant without a restart', async () => {
    volume.publish(
      JSON.stringify(
        configWith(
          t.vendor.url,
          [
            { name: 'org-s', apiKeyFile: keyFile },
            { name: 'org-c', apiKeyEnv: 'SB_TEST_KEY_OPENAI_C' },
          ],
          'Variant two.',
        ),
      ),
    );
    await waitForGeneration(2);
    const m = `added-${randomUUID().slice(0, 8)}`;
    await callUntilSeenBy('openai/org-c', m);
    const seen = t.vendor.requests({ contains: [m], includePrompt: true });
    expect(seen.every((r) => r.promptText?.includes('Variant two.') && !r.promptText.includes('Variant one.'))).toBe(true);
    expect(worker!.output()).toMatch(/"upstreams":\["pool\/org-s","pool\/org-c"\][^\n]*"msg":"config reloaded"/);
    expect(worker!.child.exitCode).toBeNull();
  });

  it('rotates a key by rewriting its file: new attempts use the new key', async () => {
    // The org-b key now stands for upstream pool/org-s: the vendor tells keys apart by organisation.
    writeAtomically(keyFile, `${testSecretsEnv.SB_TEST_KEY_OPENAI_B}\n`);
    await waitForGeneration(3);
    const m = `rotated-${randomUUID().slice(0, 8)}`;
    await callUntilSeenBy('openai/org-b', m);
    expect(t.vendor.requests({ organisation: 'openai/org-s', contains: [m] })).toHaveLength(0);
  });

  it('rejects a broken file, says which field and why, and keeps serving the previous config', async () => {
    const broken = configWith(
      t.vendor.url,
      [
        { name: 'org-s', apiKeyFile: keyFile },
        { name: 'org-c', apiKeyEnv: 'SB_TEST_KEY_OPENAI_C' },
      ],
      'Variant three.',
    );
    broken.routes = { reloadable: { entries: [{ provider: 'poool', model: 'gpt-4o-mini', prompt: 'helper' }] } };
    volume.publish(JSON.stringify(broken));
    await eventually(
      'the rejection to be counted',
      async () => ((await metric(/^sb_config_reloads_total\{result="rejected"\} (\d+)/m)) === 1 ? true : undefined),
      20_000,
    );
    expect(await metric(/^sb_config_generation (\d+)/m)).toBe(3);
    expect(worker!.output()).toMatch(
      /routes\.reloadable\.entries\[0\]\.provider: unknown provider \\"poool\\"[^\n]*"msg":"config rejected: the previous config keeps serving"/,
    );

    const m = `kept-${randomUUID().slice(0, 8)}`;
    await callUntilSeenBy('openai/org-c', m);
    const seen = t.vendor.requests({ contains: [m], includePrompt: true });
    expect(seen.every((r) => r.promptText?.includes('Variant two.'))).toBe(true);
    // Still the rotated key for pool/org-s, never the old one.
    expect(t.vendor.requests({ organisation: 'openai/org-s', contains: [m] })).toHaveLength(0);
  });

  it('rejects a config whose key file is missing, without printing any key', async () => {
    volume.publish(
      JSON.stringify(
        configWith(
          t.vendor.url,
          [
            { name: 'org-s', apiKeyFile: `${keyFile}.missing` },
            { name: 'org-c', apiKeyEnv: 'SB_TEST_KEY_OPENAI_C' },
          ],
          'Variant two.',
        ),
      ),
    );
    await eventually(
      'the second rejection',
      async () => ((await metric(/^sb_config_reloads_total\{result="rejected"\} (\d+)/m)) === 2 ? true : undefined),
      20_000,
    );
    expect(worker!.output()).toMatch(/org-s-key\.missing \(providers\.pool\.upstreams: org-s, apiKeyFile\): cannot be read/);
    const m = `still-${randomUUID().slice(0, 8)}`;
    await t.sb.complete({ route: 'reloadable', messages: [{ role: 'user', content: `Hello ${m}` }] });
    for (const key of Object.values(testSecretsEnv)) expect(worker!.output()).not.toContain(key);
  });
});
