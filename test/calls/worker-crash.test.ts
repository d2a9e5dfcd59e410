/**
 * A worker killed with SIGKILL in the middle of an attempt: the call still
 * completes, once, on another worker. The first attempt runs as a local
 * activity inside the workflow task, so the loss shows in history as that
 * task timing out, and the new worker runs the attempt again.
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
    const killedAt = Date.now();

    await t.startWorker();
    const result = await handle.result();
    const recoveredMs = Date.now() - killedAt;
    expect(result.provider).toBe('solo');
    expect(result.text.length).toBeGreaterThan(0);
    // The lost attempt was never recorded (it ran inside the lost workflow task): the re-run answered.
    expect(result.attempts).toEqual([expect.objectContaining({ outcome: 'success' })]);

    const history = await handle.handle.fetchHistory();
    const timedOut = history.events?.filter((e) => e.workflowTaskTimedOutEventAttributes) ?? [];
    expect(timedOut.length).toBeGreaterThanOrEqual(1);
    expect(history.events?.filter((e) => e.workflowExecutionCompletedEventAttributes)).toHaveLength(1);
    expect(t.vendor.requests({ contains: [m] }).length).toBe(2);
    // The documented bound (docs/benchmarks.md): workflow-task timeout (10 s) + sticky-queue timeout (10 s) + the attempt.
    process.stdout.write(`  call ended ${recoveredMs} ms after its worker was SIGKILLed\n`);
  });
});
