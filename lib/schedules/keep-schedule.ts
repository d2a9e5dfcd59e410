/**
 * Keeps one Temporal Schedule in line with what the config wants — the shape
 * every config-driven Schedule (fallback drills, the insights job) shares.
 * Idempotent, so every worker can call it at start and on reload: create; if
 * it exists and already matches, leave it; else update it; when the config
 * wants none, delete it.
 */
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  type Client,
  type ScheduleDescription,
  type ScheduleOptions,
  type ScheduleUpdateOptions,
} from '@temporalio/client';

export type ScheduleSync = 'created' | 'updated' | 'unchanged' | 'deleted' | 'absent';

export interface WantedSchedule {
  /** Everything but the id, for a schedule that does not exist yet. */
  create: Omit<ScheduleOptions, 'scheduleId'>;
  /** Whether an existing schedule already is what the config wants. */
  isCurrent(existing: ScheduleDescription): boolean;
  /** The update of one that is not (keep what an operator set, such as a pause). */
  update(previous: ScheduleDescription): ScheduleUpdateOptions;
}

export async function keepSchedule(client: Client, scheduleId: string, wanted: WantedSchedule | undefined): Promise<ScheduleSync> {
  const handle = client.schedule.getHandle(scheduleId);
  if (!wanted) {
    try {
      await handle.delete();
      return 'deleted';
    } catch (error) {
      if (error instanceof ScheduleNotFoundError) return 'absent';
      throw error;
    }
  }
  try {
    await client.schedule.create({ ...wanted.create, scheduleId });
    return 'created';
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  if (wanted.isCurrent(await handle.describe())) return 'unchanged';
  await handle.update((previous) => wanted.update(previous));
  return 'updated';
}
