/**
 * The Temporal Schedule that runs the insights job (`insights.schedule`,
 * weekly by default). Created idempotently by every worker at start-up: the
 * first creates it, the others find it; a changed cron updates it, `off`
 * deletes it. The cron the schedule was made from is kept in its note,
 * because Temporal describes a schedule as calendars, not as the cron given.
 */
import type { Client } from '@temporalio/client';
import { keepSchedule } from './keep-schedule';
import { insightsScheduleId } from '../../contracts/names';
import { workflowTypes } from '../../contracts/workflow-types';

export interface InsightsScheduleOptions {
  /** A five-field UTC cron, or `off`. */
  schedule: string;
  taskQueue: string;
}

export type ScheduleChange = 'created' | 'updated' | 'unchanged' | 'deleted' | 'off';

const noteOf = (cron: string) => `insights job, cron "${cron}" (insights.schedule; kept by the workers)`;

export async function ensureInsightsSchedule(client: Client, { schedule, taskQueue }: InsightsScheduleOptions): Promise<ScheduleChange> {
  const scheduleId = insightsScheduleId(taskQueue);
  const action = { type: 'startWorkflow' as const, workflowType: workflowTypes.insightsJob, taskQueue, args: [{}], workflowId: `${scheduleId}-run` };
  const outcome = await keepSchedule(
    client,
    scheduleId,
    schedule === 'off'
      ? undefined
      : {
          create: {
            spec: { cronExpressions: [schedule] },
            action,
            // A run still going when the next is due (a huge period) makes the next one wait its turn, not pile up.
            policies: { overlap: 'SKIP', catchupWindow: '1 day' },
            state: { note: noteOf(schedule) },
          },
          isCurrent: (description) =>
            description.state.note === noteOf(schedule) && description.action.type === 'startWorkflow' && description.action.taskQueue === taskQueue,
          update: (previous) => ({ ...previous, spec: { cronExpressions: [schedule] }, action, state: { ...previous.state, note: noteOf(schedule) } }),
        },
  );
  return outcome === 'absent' ? 'off' : outcome;
}
