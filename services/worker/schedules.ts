/**
 * The Temporal Schedules a worker keeps in line with its config: the fallback
 * drills (`drills`) and the insights job (`insights.schedule`). Every worker
 * syncs them at start and after a reload that changes their settings — the
 * syncs are idempotent, so many workers starting at once leave one Schedule
 * each. A failed sync is logged and never stops the worker.
 */
import type { Client } from '@temporalio/client';
import type { LiveConfig } from '../../lib/config/live-config';
import { ensureDrillSchedule } from '../../lib/schedules/drills';
import { ensureInsightsSchedule } from '../../lib/schedules/insights';
import type { Logger } from '../../lib/log';
import type { SwitchboardConfig } from '../../schemas/config';

interface ScheduleKeeper {
  /** The part of the config the schedule follows; a reload that leaves it unchanged does nothing. */
  settings(config: SwitchboardConfig): unknown;
  sync(config: SwitchboardConfig): Promise<string>;
  /** What is lost when the sync fails. */
  failure: string;
  name: string;
}

/** Syncs every schedule now and after each relevant reload; returns what stops following reloads. */
export async function keepSchedulesInLine(options: { client: Client; taskQueue: string; live: LiveConfig; log: Logger }): Promise<() => void> {
  const { client, taskQueue, live, log } = options;
  const keepers: ScheduleKeeper[] = [
    {
      name: 'drill schedule',
      settings: (config) => config.drills,
      sync: (config) => ensureDrillSchedule({ client, taskQueue, drills: config.drills }),
      failure: 'drills will not run on schedule',
    },
    {
      name: 'insights schedule',
      settings: (config) => config.insights.schedule,
      sync: (config) => ensureInsightsSchedule(client, { schedule: config.insights.schedule, taskQueue }),
      failure: 'the job runs only on demand',
    },
  ];
  const sync = (keeper: ScheduleKeeper) => {
    const config = live.current();
    return keeper.sync(config).then(
      (outcome) => log.info({ outcome, settings: keeper.settings(config) }, keeper.name),
      (error: unknown) => log.error({ err: error instanceof Error ? error.message : String(error) }, `could not set up the ${keeper.name}; ${keeper.failure}`),
    );
  };
  await Promise.all(keepers.map(sync));
  const stops = keepers.map((keeper) =>
    live.onReload((next, previous) => {
      if (JSON.stringify(keeper.settings(next.config)) !== JSON.stringify(keeper.settings(previous.config))) return () => void sync(keeper);
    }),
  );
  return () => stops.forEach((stop) => stop());
}
