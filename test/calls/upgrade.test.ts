/**
 * An upgrade whose call steps differ (docs/deploy.md, "Upgrades"): a call
 * started by the older release and still waiting when its worker goes away is
 * picked up by today's worker, which cannot replay it — and the call ends
 * failed at once, with its caller told, instead of its workflow task being
 * retried forever while the call shows "Running".
 */
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { testDataConverter, testStack } from '../harness/env';
import { eventually, startSwitchboard, type SwitchboardUnderTest } from '../harness/switchboard';

jest.setTimeout(120_000);

let t: SwitchboardUnderTest;
beforeAll(async () => {
  t = await startSwitchboard({ withWorker: false });
});
afterAll(async () => {
  await t?.close();
});

test('a call of a release with other steps ends failed at once on the new worker, not stuck running', async () => {
  const { code } = await bundleWorkflowCode({
    workflowsPath: join(__dirname, '..', 'fixtures', 'workflows', 'older-release.ts'),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
  });
  const older = await Worker.create({
    connection: await NativeConnection.connect({ address: testStack().temporalAddress }),
    taskQueue: t.taskQueue,
    workflowBundle: { code },
    dataConverter: testDataConverter(),
  });
  const handle = await older.runUntil(async () => {
    const started = await t.client.workflow.start('llmCall', { taskQueue: t.taskQueue, workflowId: `upgrade-${Date.now()}`, args: [] });
    // The older release's call is waiting on its timer when its worker goes away.
    await eventually('the older call to wait on its timer', async () => {
      const { events } = await started.fetchHistory();
      return events?.some((e) => e.timerStartedEventAttributes) || undefined;
    });
    return started;
  });

  await t.startWorker();
  const failed = await handle.result().then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(failed).toBeInstanceOf(WorkflowFailedError);
  expect((await handle.describe()).status.name).toBe('FAILED');
  expect(String((failed as WorkflowFailedError).cause?.message)).toMatch(/nondeterminism/i);
});
