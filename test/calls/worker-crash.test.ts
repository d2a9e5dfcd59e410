/**
 * A worker killed with SIGKILL in the middle of an attempt: the call still
 * completes, on another worker, and the lost attempt shows in history.
 */
import { randomUUID } from 'node:crypto';
import { eventually, startSwitchboard, switchboardConfig, type SwitchboardUnderTest } from '../harness/switchboard';
import { spawnWorker, writeConfigFile, type WorkerProcess } from '../harness/worker-process';

describe('worker crash during an attempt', () => {
  let t: SwitchboardUnderTest;
  let doomed: WorkerProcess | undefined;

  beforeAll(async () => {
    t = await startSwitchboard({ withWorker: false });
  });
  afterAll(async () => {
    doomed?.kill('SIGKILL');
    await t?.close();
  });

  it('completes the call on another worker', async () => {
    const m = `crash-${randomUUID().slice(0, 8)}`;
    const configPath = writeConfigFile(switchboardConfig(t.vendor.url));
    doomed = spawnWorker({ configPath, taskQueue: t.taskQueue, controlBucket: t.controlBucket });
    await eventually('the doomed worker to start', () => doomed!.output().includes('worker started') || undefined, 30_000);

    // The first request of this call hangs at the vendor for 4 s: long enough to kill the worker mid-attempt.
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m, times: 1, fault: { kind: 'latency', ms: 4_000 } });
    const handle = await t.sb.start({ route: 'solo-only', messages: [{ role: 'user', content: `Survive ${m}` }] });
    await eventually('the attempt to reach the vendor', () => (t.vendor.requests({ contains: [m] }).length > 0 ? true : undefined), 20_000);
    doomed.kill('SIGKILL');
    expect(await doomed.exited).toBe('SIGKILL');

    await t.startWorker();
    const result = await handle.result();
    expect(result.provider).toBe('solo');
    expect(result.text.length).toBeGreaterThan(0);
    // The lost attempt timed out on its heartbeat; the next one answered.
    expect(result.attempts.at(-1)).toEqual(expect.objectContaining({ outcome: 'success' }));
    expect(result.attempts[0]).toEqual(expect.objectContaining({ outcome: 'retryable', errorType: 'activity_timeout' }));

    const history = await handle.handle.fetchHistory();
    const timedOut = history.events?.filter((e) => e.activityTaskTimedOutEventAttributes) ?? [];
    expect(timedOut.length).toBe(1);
    expect(t.vendor.requests({ contains: [m] }).length).toBe(2);
  });
});
