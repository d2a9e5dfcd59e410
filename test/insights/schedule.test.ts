/**
 * The insights Schedule on the real Temporal dev server: a worker creates it
 * at start-up (idempotently), a changed cron updates it, `off` deletes it,
 * and a triggered run executes the insightsJob workflow.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScheduleNotFoundError } from '@temporalio/client';
import { ensureInsightsSchedule } from '../../lib/schedules/insights';
import { insightsScheduleId } from '../../contracts/names';
import { eventually, startSwitchboard, type SwitchboardUnderTest } from '../harness/switchboard';

describe('insights schedule', () => {
  let t: SwitchboardUnderTest;
  const reportDir = mkdtempSync(join(tmpdir(), 'sb-insights-schedule-'));

  beforeAll(async () => {
    // Tenant of no traffic: the triggered run has nothing to cluster and says so.
    t = await startSwitchboard({ configOverrides: { insights: { schedule: '0 6 * * 1', reportDir, tenant: `nobody-${randomUUID().slice(0, 8)}` } } });
  });
  afterAll(async () => {
    await t.client.schedule
      .getHandle(insightsScheduleId(t.taskQueue))
      .delete()
      .catch(() => undefined);
    await t?.close();
    rmSync(reportDir, { recursive: true, force: true });
  });

  it('is created by the worker, left alone when unchanged, updated on a new cron and deleted when off', async () => {
    const handle = t.client.schedule.getHandle(insightsScheduleId(t.taskQueue));
    // The worker's start-up created it.
    const created = await handle.describe();
    expect(created.action).toMatchObject({ type: 'startWorkflow', workflowType: 'insightsJob', taskQueue: t.taskQueue });
    expect(created.spec.calendars ?? []).toHaveLength(1);
    expect(created.state.note).toContain('"0 6 * * 1"');

    expect(await ensureInsightsSchedule(t.client, { schedule: '0 6 * * 1', taskQueue: t.taskQueue })).toBe('unchanged');
    expect(await ensureInsightsSchedule(t.client, { schedule: '30 7 * * 5', taskQueue: t.taskQueue })).toBe('updated');
    const updated = await handle.describe();
    expect(updated.state.note).toContain('"30 7 * * 5"');
    expect(updated.spec.calendars?.[0]).toMatchObject({ hour: [{ start: 7, end: 7, step: 1 }], minute: [{ start: 30, end: 30, step: 1 }] });

    // A triggered action runs the job on this task queue's worker.
    await handle.trigger();
    const run = await eventually('the scheduled run to start', async () => (await handle.describe()).info.recentActions[0]?.action.workflow, 30_000);
    const result = await t.client.workflow.getHandle(run.workflowId, run.firstExecutionRunId).result();
    expect(result).toMatchObject({ judged: 0, clusters: 0 });
    expect(result.markdown).toContain('No group of rejections stands out from the baseline.');

    expect(await ensureInsightsSchedule(t.client, { schedule: 'off', taskQueue: t.taskQueue })).toBe('deleted');
    await expect(handle.describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
    expect(await ensureInsightsSchedule(t.client, { schedule: 'off', taskQueue: t.taskQueue })).toBe('off');
  }, 90_000);
});
