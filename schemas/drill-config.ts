/**
 * Config `drills` (schemas/config.ts). Apart from schemas/drill.ts because
 * that one needs schemas/call.ts, which needs schemas/config.ts: one import
 * cycle less.
 */
import { z } from 'zod';

/** Used when neither `drills.prompts` nor the route's own list says otherwise. */
export const DEFAULT_DRILL_PROMPT = 'Health check: in one short sentence, say what a website builder does.';

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** Drills more often than this would cost money and load without telling more. */
export const MIN_DRILL_INTERVAL_MS = 60_000;

/** `<n>s|m|h|d`, e.g. `6h`, `90m`. */
export const DrillInterval = z
  .string()
  .regex(/^\d+[smhd]$/, 'a duration like 6h, 30m, 90s or 1d')
  .refine((value) => drillIntervalMs(value) >= MIN_DRILL_INTERVAL_MS, 'at least 1m');

/** Milliseconds of a DrillInterval (`6h` → 21 600 000). */
export function drillIntervalMs(value: string): number {
  const unit = value.slice(-1) as keyof typeof UNIT_MS;
  return Number(value.slice(0, -1)) * (UNIT_MS[unit] ?? Number.NaN);
}

const SamplePrompt = z.string().min(1).max(4_000);

/** Config `drills`. */
export const DrillConfig = z.object({
  /** Run the drill Schedule (workers create it at start-up). Default true: fallbacks rot when nobody exercises them. */
  enabled: z.boolean().default(true),
  /** Interval of the Schedule. Default `6h`. */
  every: DrillInterval.default('6h'),
  /** Sample prompts sent through every entry of every route. Default one short question. */
  prompts: z.array(SamplePrompt).min(1).max(10).default([DEFAULT_DRILL_PROMPT]),
  /** Per-route sample prompts, replacing `prompts` for that route (e.g. one its validation accepts). Default none. */
  routePrompts: z.record(z.string(), z.array(SamplePrompt).min(1).max(10)).default({}),
});
export type DrillConfig = z.infer<typeof DrillConfig>;
