/**
 * Names shared by services, activities and workflows: task queues,
 * workflow-id builders, search attributes, NATS subjects and KV buckets.
 * Workflow code imports this module, so it must stay deterministic (no
 * node:*, nats, pino, Date.now()); lint holds that line.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** The task queue every Switchboard worker polls. */
export const TASK_QUEUE = 'switchboard';

/** Custom search attributes, registered by the local stack and set on every call. */
export const searchAttributes = {
  tenant: defineSearchAttributeKey('SbTenant', SearchAttributeType.KEYWORD),
  user: defineSearchAttributeKey('SbUser', SearchAttributeType.KEYWORD),
  feature: defineSearchAttributeKey('SbFeature', SearchAttributeType.KEYWORD),
  route: defineSearchAttributeKey('SbRoute', SearchAttributeType.KEYWORD),
  provider: defineSearchAttributeKey('SbProvider', SearchAttributeType.KEYWORD),
  upstream: defineSearchAttributeKey('SbUpstream', SearchAttributeType.KEYWORD),
  outcome: defineSearchAttributeKey('SbOutcome', SearchAttributeType.KEYWORD),
} as const;

/**
 * The search attributes of a call known before it starts (who, what, `running`),
 * set in the start request so the workflow's first task upserts nothing; the
 * workflow upserts them itself only when a starter did not (child calls).
 */
export function callStartSearchAttributes(request: { tenant: string; user?: string | undefined; feature?: string | undefined; route: string }) {
  return [
    { key: searchAttributes.tenant, value: request.tenant },
    ...(request.user ? [{ key: searchAttributes.user, value: request.user }] : []),
    ...(request.feature ? [{ key: searchAttributes.feature, value: request.feature }] : []),
    { key: searchAttributes.route, value: request.route },
    { key: searchAttributes.outcome, value: 'running' },
  ];
}

/**
 * The shape of llmCall's steps, recorded as a patch marker in every call's
 * history. A release that changes the steps in a way older histories cannot
 * replay changes this name: calls in flight from before then end failed at
 * once on the new workers instead of hanging (docs/deploy.md, "Upgrades");
 * compatible changes keep it and guard themselves with `patched()`.
 */
export const CALL_SHAPE = 'sb-call-shape-2026-12-05-b';

/**
 * The workflow-task timeout of a call (Temporal's default, set explicitly
 * because it bounds recovery): the call's first attempt runs inside a
 * workflow task, so when the process running it dies, the call moves to
 * another worker once this passes (docs/benchmarks.md, "One workflow task").
 * While a long local attempt runs, the SDK heartbeats the task at 80% of it;
 * a cancellation reaches that attempt at such a heartbeat.
 */
export const CALL_WORKFLOW_TASK_TIMEOUT_MS = 10_000;

/** `name=Type` pairs in the form `temporal server start-dev --search-attribute` takes. */
export function searchAttributeRegistrations(): string[] {
  return Object.values(searchAttributes).map((key) => `${key.name}=Keyword`);
}

/**
 * The tenant-and-key part of a workflow id: `<len>:<tenant>:<len>:<key>`,
 * each part prefixed by its length (UTF-16 code units), so the encoding is
 * injective and prefix-free whatever the parts contain (`-`, `/`, `:`,
 * unicode). Joining with a separator the parts may contain lets tenant `acme`
 * with key `eu-inv-7` meet tenant `acme-eu` with key `inv-7`; lengths cannot
 * meet, and a chain's child suffix (`/step/...`) cannot be read as part of a
 * key either.
 */
export function tenantScopedKey(tenant: string, idempotencyKey: string): string {
  return `${tenant.length}:${tenant}:${idempotencyKey.length}:${idempotencyKey}`;
}

/**
 * Workflow id of one LLM call. With an idempotency key the id is derived from
 * the tenant and the key (tenantScopedKey); starting twice with the same key
 * finds the same execution. Without one it is fresh (`call-<uuid>`: no `:`,
 * so never equal to a keyed id).
 */
export function callWorkflowId(tenant: string, idempotencyKey: string | undefined, fresh: () => string): string {
  return idempotencyKey ? `call-${tenantScopedKey(tenant, idempotencyKey)}` : `call-${fresh()}`;
}

/** Subject of the CallEvent for one attempt on `upstream` (stream SB_CALLS). */
export function callEventSubject(provider: string, upstream: string): string {
  return `sb.call.${provider}.${upstream}`;
}

/** A tenant id as one NATS subject token: `.`, `*`, `>` and whitespace would split or widen the subject. */
function subjectToken(tenant: string): string {
  return tenant.replace(/[.*>\s]/g, '_');
}

/** Subject of a caller's feedback on one call (stream SB_FEEDBACK). */
export function feedbackSubject(tenant: string): string {
  return `sb.feedback.${subjectToken(tenant)}`;
}

/** Subject of a finished call's interaction record (stream SB_INTERACTIONS). */
export function interactionSubject(tenant: string): string {
  return `sb.interaction.${subjectToken(tenant)}`;
}

/** Core NATS subject the insights job publishes its report on (JSON). */
export const INSIGHTS_SUBJECT = 'sb.insights';

/** Id of the insights job's Temporal Schedule: one per task queue (production's one queue: `sb-insights`). */
export function insightsScheduleId(taskQueue: string): string {
  return taskQueue === TASK_QUEUE ? 'sb-insights' : `sb-insights-${taskQueue}`;
}

/** Workflow id of the probe workflow used by the harness slice and the demo. */
export function probeWorkflowId(runId: string): string {
  return `probe-${runId}`;
}

/**
 * Breaker names are scoped by a cluster: one set of breakers per group of
 * workers that share traffic. Production runs one, unnamed (`sb_breakers`,
 * `breaker-<upstreamId>`); tests and side-by-side deployments name theirs so
 * breakers never leak between them.
 */
const DEFAULT_BREAKER_BUCKET = 'sb_breakers';

/** KV bucket of the breaker states of `cluster` (written only by supervisors). */
export function breakerBucket(cluster: string | undefined): string {
  return cluster ? `${DEFAULT_BREAKER_BUCKET}_${cluster}` : DEFAULT_BREAKER_BUCKET;
}

/** KV bucket of the half-open probe leases of `cluster` (compare-and-set, so the budget holds cluster-wide). */
export function probeLeaseBucket(cluster: string | undefined): string {
  return `${breakerBucket(cluster)}_probes`;
}

/**
 * Task queue of the breaker supervisors of the workers on `taskQueue`: a
 * queue of their own, polled by every worker, so a trip is acted on at once
 * even behind a backlog of call workflow tasks (measured: on one shared
 * queue, a saturated stack took 24 s to open a dead organisation's breaker).
 */
export function breakerTaskQueue(taskQueue: string): string {
  return `${taskQueue}-breakers`;
}

/** Workflow id of the one breakerSupervisor of `upstream` in `cluster`. */
export function breakerWorkflowId(upstream: string, cluster?: string): string {
  return cluster ? `breaker-${cluster}-${upstream}` : `breaker-${upstream}`;
}

/** Core NATS subject of the BreakerEvents of `upstream` (`sb.breaker.>` tails them all). */
export function breakerSubject(upstream: string): string {
  return `sb.breaker.${upstream}`;
}

/** NATS header naming the cluster of a breaker event, so a subscriber can tell clusters apart. */
export const BREAKER_CLUSTER_HEADER = 'Sb-Cluster';

/** Workflow id of an agent chain run: from the caller's idempotency key when given (tenantScopedKey), else fresh. */
export function chainWorkflowId(tenant: string, idempotencyKey: string | undefined, fresh: () => string): string {
  return idempotencyKey ? `chain-${tenantScopedKey(tenant, idempotencyKey)}` : `chain-${fresh()}`;
}

/**
 * Workflow id of one child call of a chain: derived from the chain's id, the
 * step, the item index of a fan-out and the repair round, so the same call
 * of the same chain always has the same id.
 */
export function chainCallWorkflowId(chainWorkflowId: string, step: string, index: number | undefined, repair: number): string {
  return `${chainWorkflowId}/${step}${index === undefined ? '' : `/${index}`}${repair > 0 ? `/repair-${repair}` : ''}`;
}

/** Id of the fallback-drill Schedule: one per task queue (production's one queue: `sb-drills`). */
export function drillScheduleId(taskQueue: string): string {
  return taskQueue === TASK_QUEUE ? 'sb-drills' : `sb-drills-${taskQueue}`;
}

/** Workflow id of an operator's drill run (the Schedule's runs get `sb-drills…-<timestamp>` from Temporal). */
export function drillWorkflowId(fresh: () => string): string {
  return `drill-${fresh()}`;
}

/**
 * Core NATS subject of a route's drill reports (`sb.drill.>` tails them all).
 * A route name is free text: characters that would split or widen a subject become `_`.
 */
export function drillSubject(route: string): string {
  return `sb.drill.${route.replace(/[.*>\s]/g, '_')}`;
}

/** Tenant and feature stamped on drill requests, so their CallEvents and metrics can be told from user traffic. */
export const DRILL_TENANT = 'sb-drill';
export const DRILL_FEATURE = 'fallback-drill';
