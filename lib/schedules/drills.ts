/**
 * The fallback-drill Temporal Schedule, made to match the config. Every
 * worker calls `ensureDrillSchedule` at start-up: workers are the one process
 * every deployment runs and the one that holds the config, so no separate
 * set-up job can be forgotten. It is idempotent — create; if it exists,
 * update only what differs; if drills are disabled, delete it — so many
 * workers starting at once (or restarting) leave exactly one Schedule. During
 * a rolling deploy that changes `drills.every`, old and new pods may each set
 * their interval; the new pods' value stands once the old ones are gone.
 */
import { ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { keepSchedule, type ScheduleSync } from './keep-schedule';
import { drillIntervalMs, type DrillConfig, type DrillInput } from '../../schemas/drill';
import { drillScheduleId } from '../../contracts/names';
import { workflowTypes } from '../../contracts/workflow-types';

/** A run that is still going when the next is due is skipped; one missed while the cluster was down runs if at most this late. */
const CATCHUP_WINDOW_MS = 10 * 60_000;
/** A drill run never takes longer than this. */
const RUN_TIMEOUT_MS = 30 * 60_000;

export type DrillScheduleOutcome = ScheduleSync;

export interface EnsureDrillScheduleOptions {
  client: Client;
  taskQueue: string;
  drills: DrillConfig;
}

function action(taskQueue: string, scheduleId: string) {
  const input: DrillInput = { trigger: 'schedule' };
  return {
    type: 'startWorkflow' as const,
    workflowType: workflowTypes.fallbackDrill,
    args: [input],
    taskQueue,
    // Temporal appends the run's timestamp to this id.
    workflowId: scheduleId,
    workflowExecutionTimeout: RUN_TIMEOUT_MS,
  };
}

export async function ensureDrillSchedule({ client, taskQueue, drills }: EnsureDrillScheduleOptions): Promise<DrillScheduleOutcome> {
  const scheduleId = drillScheduleId(taskQueue);
  if (!drills.enabled) return keepSchedule(client, scheduleId, undefined);
  const everyMs = drillIntervalMs(drills.every);
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: CATCHUP_WINDOW_MS };
  return keepSchedule(client, scheduleId, {
    // The first run comes one interval after creation, not at the next epoch-aligned boundary: a fresh deploy does not
    // drill every vendor at once, and short-lived clusters (tests, previews) never drill on their own.
    create: { spec: { intervals: [{ every: everyMs }], startAt: new Date(Date.now() + everyMs) }, action: action(taskQueue, scheduleId), policies },
    isCurrent: (current) => {
      const interval = current.spec.intervals?.[0];
      return (
        current.spec.intervals?.length === 1 &&
        interval?.every === everyMs &&
        current.action.type === 'startWorkflow' &&
        current.action.workflowType === workflowTypes.fallbackDrill &&
        current.action.taskQueue === taskQueue
      );
    },
    // An operator's pause (and note) is kept: only the interval and the action follow the config.
    update: (previous) => ({
      ...previous,
      spec: { intervals: [{ every: everyMs }], ...(previous.spec.startAt ? { startAt: previous.spec.startAt } : {}) },
      action: action(taskQueue, scheduleId),
      policies: { ...previous.policies, ...policies },
    }),
  });
}
