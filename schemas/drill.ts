/**
 * Fallback drills: sample prompts sent through every entry of a route (each
 * pinned to its provider, model and prompt variant), their verdicts, and the
 * drill configuration. See docs/breakers.md, "Fallback drills".
 */
import { z } from 'zod';
import { PlannedEntry } from './call';
import { OutputValidation } from './validation';

export { DEFAULT_DRILL_PROMPT, DrillConfig, DrillInterval, drillIntervalMs, MIN_DRILL_INTERVAL_MS } from './drill-config';

/** What a drill run is asked to do. */
export const DrillInput = z.object({
  /** Routes to drill; default every route in the config. */
  routes: z.array(z.string().min(1)).min(1).optional(),
  /** Who started it: the Schedule or an operator (CLI, demo). */
  trigger: z.enum(['schedule', 'operator']),
});
export type DrillInput = z.infer<typeof DrillInput>;

/** One route as planDrill fixed it for the run: every entry, the failover switch ignored. */
export const DrillRoutePlan = z.object({
  route: z.string(),
  entries: z.array(PlannedEntry).min(1),
  prompts: z.array(z.string()).min(1),
  /** The route's checks with `nonEmpty` forced on and the second look off. */
  validation: OutputValidation,
  attemptTimeoutMs: z.number().int().positive(),
});
export type DrillRoutePlan = z.infer<typeof DrillRoutePlan>;

export const DrillPlan = z.object({
  routes: z.array(DrillRoutePlan),
  heartbeatMs: z.number().int().positive(),
});
export type DrillPlan = z.infer<typeof DrillPlan>;

export const DrillResult = z.enum(['pass', 'fail']);
export type DrillResult = z.infer<typeof DrillResult>;

/** One sample prompt through one entry: one attempt, no retry, no fallback. */
export const DrillSample = z.object({
  /** Index into the route's sample prompts. */
  prompt: z.number().int().nonnegative(),
  result: DrillResult,
  /** Absent when no upstream of the entry's provider could be picked (every breaker open). */
  upstream: z.string().optional(),
  latencyMs: z.number().nonnegative(),
  /** The answer's first characters (pass) — enough to see it was an answer. */
  answerPreview: z.string().optional(),
  /** Why it failed: the attempt's outcome class, error type, status and message. */
  outcome: z.string().optional(),
  errorType: z.string().optional(),
  status: z.number().int().optional(),
  message: z.string().optional(),
});
export type DrillSample = z.infer<typeof DrillSample>;

export const DrillEntryReport = z.object({
  /** Position in the route: 0 is the primary. */
  index: z.number().int().nonnegative(),
  role: z.enum(['primary', 'fallback']),
  provider: z.string(),
  model: z.string(),
  /** Logical prompt of the entry, if any. */
  prompt: z.string().optional(),
  /** The variant the attempt applied (`assistant:anthropic`, `none`). */
  promptVariant: z.string(),
  /** pass when every sample passed. */
  result: DrillResult,
  /** The slowest sample's latency. */
  latencyMs: z.number().nonnegative(),
  samples: z.array(DrillSample).min(1),
});
export type DrillEntryReport = z.infer<typeof DrillEntryReport>;

/** Published on `sb.drill.<route>` (JSON; header `Sb-Cluster` when the cluster is named) and part of the run's result. */
export const DrillReport = z.object({
  /** Workflow id of the run. */
  drillId: z.string(),
  route: z.string(),
  trigger: DrillInput.shape.trigger,
  startedAt: z.number(),
  finishedAt: z.number(),
  /** pass when every entry passed. */
  result: DrillResult,
  entries: z.array(DrillEntryReport).min(1),
});
export type DrillReport = z.infer<typeof DrillReport>;

/** The drill workflow's result. */
export const DrillRun = z.object({
  drillId: z.string(),
  trigger: DrillInput.shape.trigger,
  startedAt: z.number(),
  finishedAt: z.number(),
  result: DrillResult,
  reports: z.array(DrillReport),
});
export type DrillRun = z.infer<typeof DrillRun>;

/** Label of an entry in metrics and tables: `<index>:<provider>/<model>`. */
export function drillEntryLabel(entry: Pick<DrillEntryReport, 'index' | 'provider' | 'model'>): string {
  return `${entry.index}:${entry.provider}/${entry.model}`;
}
