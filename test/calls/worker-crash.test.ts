/**
 * The process running a call killed with SIGKILL in the middle of an
 * attempt — a worker, or a gateway whose in-process worker took the call's
 * first workflow task eagerly: the call still ends, once, on another process,
 * within the documented bound. The first attempt runs as a local activity
 * inside the workflow task, so the loss shows in history as that task timing
 * out, and the new worker runs the attempt again.
 */
import { randomUUID } from 'node:crypto';
import type { temporal } from '@temporalio/proto';
import { CALL_WORKFLOW_TASK_TIMEOUT_MS, callWorkflowId } from '../../contracts/names';
import type { LlmCallWorkflow } from '../../contracts/workflow-types';
import { gatewaySection, tenantKeys } from '../harness/gateway';
import { spawnGateway, type GatewayProcess } from '../harness/gateway-process';
import { eventually, startSwitchboard, switchboardConfig, type SwitchboardUnderTest } from '../harness/switchboard';
import { spawnWorker, writeConfigFile, type WorkerProcess } from '../harness/worker-process';

/** How long the vendor holds the doomed attempt: long enough to kill its process mid-attempt. */
const HANG_MS = 4_000;
/**
 * The bound docs/benchmarks.md states: the workflow-task timeout, then the
 * re-run attempt (the fault hits once, so it answers at once) — plus a
 * margin for a loaded machine.
 */
const BOUND_MS = CALL_WORKFLOW_TASK_TIMEOUT_MS + 5_000;

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** One terminal event, a timed-out task before it, and the identities of the workers that started tasks. */
function crashShape(events: HistoryEvent[]) {
  return {
    completed: events.filter((e) => e.workflowExecutionCompletedEventAttributes).length,
    terminal: events.filter(
      (e) =>
        e.workflowExecutionCompletedEventAttributes ||
        e.workflowExecutionFailedEventAttributes ||
        e.workflowExecutionCanceledEventAttributes ||
        e.workflowExecutionTimedOutEventAttributes,
    ).length,
    timedOutTasks: events.filter((e) => e.workflowTaskTimedOutEventAttributes).length,
    taskIdentities: events.filter((e) => e.workflowTaskStartedEventAttributes).map((e) => e.workflowTaskStartedEventAttributes!.identity ?? ''),
  };
}

describe('the process running a call dies during an attempt', () => {
  let t: SwitchboardUnderTest;
  let doomedWorker: WorkerProcess | undefined;
  let doomedGateway: GatewayProcess | undefined;

  beforeAll(async () => {
    t = await startSwitchboard({ withWorker: false });
  });
  afterAll(async () => {
    doomedWorker?.kill('SIGKILL');
    doomedGateway?.child.kill('SIGKILL');
    await t?.close();
  });

  it('a worker: the call completes on another worker', async () => {
    const m = `crash-${randomUUID().slice(0, 8)}`;
    const configPath = writeConfigFile(switchboardConfig(t.vendor.url));
    doomedWorker = spawnWorker({ configPath, taskQueue: t.taskQueue, controlBucket: t.controlBucket });
    await eventually('the doomed worker to start', () => doomedWorker!.output().includes('worker started') || undefined, 30_000);

    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m, times: 1, fault: { kind: 'latency', ms: HANG_MS } });
    const handle = await t.sb.start({ route: 'solo-only', messages: [{ role: 'user', content: `Survive ${m}` }] });
    await eventually('the attempt to reach the vendor', () => (t.vendor.requests({ contains: [m] }).length > 0 ? true : undefined), 20_000);
    doomedWorker.kill('SIGKILL');
    expect(await doomedWorker.exited).toBe('SIGKILL');
    const killedAt = Date.now();

    const worker = await t.startWorker();
    const result = await handle.result();
    const recoveredMs = Date.now() - killedAt;
    expect(result.provider).toBe('solo');
    expect(result.text.length).toBeGreaterThan(0);
    // The lost attempt was never recorded (it ran inside the lost workflow task): the re-run answered.
    expect(result.attempts).toEqual([expect.objectContaining({ outcome: 'success' })]);

    const shape = crashShape((await handle.handle.fetchHistory()).events ?? []);
    expect(shape).toMatchObject({ completed: 1, terminal: 1 });
    expect(shape.timedOutTasks).toBeGreaterThanOrEqual(1);
    expect(shape.taskIdentities.at(-1)).toBe(worker.worker.options.identity);
    expect(t.vendor.requests({ contains: [m] }).length).toBe(2);
    expect(recoveredMs).toBeLessThan(BOUND_MS);
    process.stdout.write(`  worker: call ended ${recoveredMs} ms after its worker was SIGKILLed (bound ${BOUND_MS} ms)\n`);
    worker.shutdown();
  });

  it('a gateway that took the call eagerly: the call completes on another process, and the same Idempotency-Key reads its answer', async () => {
    const m = `gateway-crash-${randomUUID().slice(0, 8)}`;
    const key = `crash-${randomUUID()}`;
    const configPath = writeConfigFile(switchboardConfig(t.vendor.url, { gateway: gatewaySection() }));
    // No other worker polls yet: the call's first workflow task can only run in this gateway's in-process worker.
    doomedGateway = await spawnGateway({ configPath, taskQueue: t.taskQueue, withWorker: true });

    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m, times: 1, fault: { kind: 'latency', ms: HANG_MS } });
    const body = JSON.stringify({ model: 'solo-only', messages: [{ role: 'user', content: `Survive ${m}` }] });
    const headers = { authorization: `Bearer ${tenantKeys.acme}`, 'content-type': 'application/json', 'idempotency-key': key };
    const lost = fetch(`${doomedGateway.url}/v1/chat/completions`, { method: 'POST', headers, body }).then(
      (r) => `answered ${r.status}`,
      (error: unknown) => `connection lost: ${String(error)}`,
    );
    await eventually('the attempt to reach the vendor', () => (t.vendor.requests({ contains: [m] }).length > 0 ? true : undefined), 20_000);
    doomedGateway.child.kill('SIGKILL');
    await doomedGateway.stop();
    const killedAt = Date.now();
    expect(await lost).toMatch(/^connection lost/);

    const worker = await t.startWorker();
    const handle = t.client.workflow.getHandle<LlmCallWorkflow>(callWorkflowId('acme', key, () => 'unused'));
    const result = await handle.result();
    const recoveredMs = Date.now() - killedAt;
    expect(result.provider).toBe('solo');
    expect(result.attempts).toEqual([expect.objectContaining({ outcome: 'success' })]);

    const shape = crashShape((await handle.fetchHistory()).events ?? []);
    expect(shape).toMatchObject({ completed: 1, terminal: 1 });
    expect(shape.timedOutTasks).toBeGreaterThanOrEqual(1);
    // The first task ran in the gateway process (eager start), the last in the new worker.
    expect(shape.taskIdentities[0]).toContain(`${doomedGateway.child.pid}@`);
    expect(shape.taskIdentities.at(-1)).toBe(worker.worker.options.identity);
    worker.shutdown();
    expect(t.vendor.requests({ contains: [m] }).length).toBe(2);
    expect(recoveredMs).toBeLessThan(BOUND_MS);
    process.stdout.write(`  gateway: call ended ${recoveredMs} ms after its gateway was SIGKILLed (bound ${BOUND_MS} ms)\n`);

    // The caller retries with the same key through a live gateway: the answer, without paying the vendor again.
    const again = await spawnGateway({ configPath, taskQueue: t.taskQueue });
    try {
      const response = await fetch(`${again.url}/v1/chat/completions`, { method: 'POST', headers, body });
      expect(response.status).toBe(200);
      const answer = (await response.json()) as { choices: Array<{ message: { content: string } }> };
      expect(answer.choices[0]!.message.content).toBe(result.text);
      expect(t.vendor.requests({ contains: [m] }).length).toBe(2);
    } finally {
      await again.stop();
    }
  });
});
