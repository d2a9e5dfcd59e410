/**
 * Constants and defaults that workflow code needs at run time, kept free of
 * zod: the Temporal worker evaluates every module a workflow imports once
 * per workflow run, and constructing zod schemas there cost ~15 ms of CPU
 * per call. The zod schemas build on these (and a test checks they agree);
 * workflow code imports schemas only as types (test/lint/workflow-bundle.test.ts).
 */

export const PII_KINDS = ['email', 'phone', 'card', 'iban', 'ip', 'national_id'] as const;

export const CONTENT_KINDS = ['button', 'heading', 'paragraph', 'title', 'free'] as const;

/** `SelectionPolicy.parse({})`. */
export const DEFAULT_SELECTION_POLICY = { headroomComfort: 0.2, minFactor: 0.01, latencyFloorMs: 100 } as const;

/** Why a breaker should open (`TripKind`). */
export const TRIP_KINDS = ['consecutive_failures', 'failure_rate', 'slow_calls', 'fatal', 'rate_limit_persistent'] as const;
