/**
 * `logging.verbosity` on a real worker process, changed by config reloads:
 * `minimal` logs no per-attempt lines but still the config transitions;
 * `standard` adds one line per attempt; `extended` adds the request and
 * response — with PII as masked and no key anywhere.
 */
import { randomUUID } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { levelForVerbosity } from '../../lib/log';
import type { SwitchboardConfigInput } from '../../schemas/config';
import { eventually, startSwitchboard, switchboardConfig, testSecretsEnv, type SwitchboardUnderTest } from '../harness/switchboard';
import { spawnWorker, writeConfigFile, type WorkerProcess } from '../harness/worker-process';

describe('levelForVerbosity', () => {
  it.each([
    ['minimal', 'warn'],
    ['standard', 'info'],
    ['extended', 'debug'],
  ] as const)('%s → %s', (verbosity, level) => expect(levelForVerbosity(verbosity)).toBe(level));
});

describe('log verbosity as a config setting', () => {
  let t: SwitchboardUnderTest;
  let worker: WorkerProcess | undefined;
  let configPath: string;
  let generation = 1;

  const configFor = (verbosity: 'minimal' | 'standard' | 'extended'): SwitchboardConfigInput =>
    switchboardConfig(t.vendor.url, {
      logging: { verbosity },
      health: { consecutiveFailures: 10_000, minCallsForRate: 10_000, rateLimitPersistCount: 10_000 },
    });
  const publish = (text: string) => {
    writeFileSync(`${configPath}.tmp`, text);
    renameSync(`${configPath}.tmp`, configPath);
  };
  /** Switches verbosity and waits for the worker to say so (a warn line, so even `minimal` shows it). */
  const switchTo = async (verbosity: 'minimal' | 'standard' | 'extended') => {
    generation += 1;
    publish(JSON.stringify(configFor(verbosity)));
    await eventually(`generation ${generation}`, () => (worker!.output().includes(`"generation":${generation},`) ? true : undefined), 20_000);
  };
  /** One call; returns its call id. */
  const call = async (content: string): Promise<string> => (await t.sb.complete({ route: 'solo-only', messages: [{ role: 'user', content }] })).callId;
  const linesOf = (callId: string) =>
    worker!
      .output()
      .split('\n')
      .filter((l) => l.includes(`"callId":"${callId}"`));

  beforeAll(async () => {
    t = await startSwitchboard({ withWorker: false });
    configPath = writeConfigFile(configFor('minimal'));
    // LOG_LEVEL empty: the config's verbosity decides.
    worker = spawnWorker({ configPath, taskQueue: t.taskQueue, controlBucket: t.controlBucket, env: { LOG_LEVEL: '' } });
    // `minimal` prints no start-up line: wait for a first call to succeed instead.
    await eventually(
      'the worker to answer',
      async () => ((await t.sb.complete({ route: 'solo-only', messages: [{ role: 'user', content: 'warm-up' }] }).catch(() => undefined)) ? true : undefined),
      60_000,
    );
  });
  afterAll(async () => {
    worker?.kill('SIGTERM');
    await worker?.exited;
    await t?.close();
  });

  it('minimal: no per-call lines, but warnings and config transitions', async () => {
    const callId = await call(`Hello ${randomUUID()}`);
    // A broken config is a transition worth a line even here.
    publish('{"providers": {}, "routes": {"r": {"entries": [{"provider": "nowhere", "model": "m"}]}}}');
    await eventually(
      'the rejection line',
      () => (/routes\.r\.entries\[0\]\.provider[^\n]*"msg":"config rejected/.test(worker!.output()) ? true : undefined),
      20_000,
    );
    // Written after the call finished, on the same stream: an attempt line would be in the output by now.
    expect(linesOf(callId)).toEqual([]);
    expect(worker!.output()).not.toContain('"msg":"worker started"');
  });

  it('standard: one line per attempt with call id, workflow id and upstream, no prompt', async () => {
    await switchTo('standard');
    const marker = `standard-${randomUUID().slice(0, 8)}`;
    const callId = await call(`Hello ${marker}`);
    const line = await eventually('the attempt line', () => linesOf(callId).find((l) => l.includes('"msg":"attempt"')));
    expect(JSON.parse(line)).toMatchObject({
      level: 30,
      callId,
      upstream: 'solo/org-s',
      outcome: 'success',
      route: 'solo-only',
      workflowId: expect.any(String),
    });
    expect(worker!.output()).not.toContain(marker);
    expect(worker!.output()).not.toContain('"msg":"attempt details"');
  });

  it('extended: request and response details, prompts as masked, never a key', async () => {
    await switchTo('extended');
    const marker = `extended-${randomUUID().slice(0, 8)}`;
    const email = `jane.${marker}@example.com`;
    const callId = await call(`Hello ${marker}, write to ${email}`);
    const details = await eventually('the details line', () => linesOf(callId).find((l) => l.includes('"msg":"attempt details"')));
    const parsed = JSON.parse(details) as { request: { messages: Array<{ content: string }> }; response: { text: string } };
    expect(parsed.request.messages.at(-1)?.content).toContain(marker);
    expect(parsed.response.text.length).toBeGreaterThan(0);
    // The vendor saw a placeholder, and so does the log.
    expect(worker!.output()).not.toContain(email);
    for (const key of Object.values(testSecretsEnv)) expect(worker!.output()).not.toContain(key);
  });
});
