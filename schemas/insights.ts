/** The insights job: its config section, its input and its result. */
import { z } from 'zod';

const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name (A-Z, 0-9, _)');
/** Five cron fields (minute hour day-of-month month day-of-week), as Temporal Schedules take them. */
const cron = z.string().regex(/^\s*(\S+\s+){4}\S+\s*$/, 'a cron expression with five fields, e.g. "0 6 * * 1", or "off"');

export const InsightsConfig = z.object({
  /** When the Temporal Schedule runs the job (UTC cron), or `off`. Default weekly, Mondays 06:00 UTC. */
  schedule: z.union([z.literal('off'), cron]).default('0 6 * * 1'),
  /** The period a scheduled run looks back over, in days. Default 7. */
  periodDays: z.number().positive().max(366).default(7),
  /** Only this tenant's interactions; default every tenant. */
  tenant: z.string().min(1).optional(),
  /** Where each report is written as `<date>.md` (relative to the worker's working directory). Default `.data/insights`. */
  reportDir: z.string().min(1).default('.data/insights'),
  /** Most interactions one run reads (the oldest are read first; the report says when it stopped early). Default 50,000. */
  maxInteractions: z.number().int().positive().default(50_000),
  /** Clustering thresholds (lib/insights/clusters.ts). */
  clusters: z
    .object({
      /** Judged interactions a term or attribute needs before it can define a cluster. Default 5. */
      minSupport: z.number().int().positive().default(5),
      /** How many times the baseline rejection rate a cluster must reach. Default 1.5. */
      minLift: z.number().min(1).default(1.5),
      /** Default 10. */
      maxClusters: z.number().int().positive().default(10),
      /** Example inputs per cluster. Default 3. */
      examples: z.number().int().nonnegative().default(3),
    })
    .default({ minSupport: 5, minLift: 1.5, maxClusters: 10, examples: 3 }),
  /** Ask an LLM, through Switchboard (a child llmCall), to name each cluster and suggest a cause. Default off. */
  naming: z
    .object({
      enabled: z.boolean().default(false),
      /** The route the naming calls take; required when enabled. */
      route: z.string().min(1).optional(),
      /** Tenant the naming calls are recorded under. Default `switchboard`. */
      tenant: z
        .string()
        .regex(/^[A-Za-z0-9._:@-]+$/)
        .default('switchboard'),
    })
    .default({ enabled: false, tenant: 'switchboard' }),
  /** Environment variable holding a webhook URL the Markdown report is POSTed to (Slack-compatible JSON); off when absent. */
  webhookUrlEnv: envName.optional(),
});
export type InsightsConfig = z.infer<typeof InsightsConfig>;

/** What one run of the job looks at. */
export const InsightsJobInput = z.object({
  /** Look back this many days from the run's start. Default `insights.periodDays`. */
  days: z.number().positive().max(366).optional(),
  /** Explicit period (epoch ms); wins over `days`. */
  sinceMs: z.number().int().nonnegative().optional(),
  untilMs: z.number().int().nonnegative().optional(),
  /** Only this tenant; default `insights.tenant` (or every tenant). */
  tenant: z.string().min(1).optional(),
});
export type InsightsJobInput = z.infer<typeof InsightsJobInput>;

/** An LLM's reading of one cluster (when `insights.naming` is on). */
export interface ClusterNaming {
  name: string;
  cause: string;
  /** Workflow id of the llmCall that answered. */
  callId: string;
}

export interface InsightsJobResult {
  period: { from: number; to: number };
  tenant?: string;
  /** The report as Markdown (also written to `file` and published on `sb.insights`). */
  markdown: string;
  clusters: number;
  judged: number;
  /** True when `maxInteractions` stopped the read before the period's end. */
  truncated: boolean;
  file?: string;
  webhookPosted: boolean;
}
