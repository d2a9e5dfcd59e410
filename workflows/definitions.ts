/**
 * Names shared by services and workflows: task queues, workflow-id builders,
 * search attributes, signals and queries. Workflow code imports this module,
 * so it must stay deterministic (no node:*, nats, pino, Date.now()).
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

/** `name=Type` pairs in the form `temporal server start-dev --search-attribute` takes. */
export function searchAttributeRegistrations(): string[] {
  return Object.values(searchAttributes).map((key) => `${key.name}=Keyword`);
}

/**
 * Workflow id of one LLM call. With an idempotency key the id is derived from
 * it (scoped by tenant, so two tenants' keys never meet); starting twice with
 * the same key finds the same execution.
 */
export function callWorkflowId(tenant: string, idempotencyKey: string | undefined, fresh: () => string): string {
  return idempotencyKey ? `call-${tenant}-${idempotencyKey}` : `call-${fresh()}`;
}

/** Subject of the CallEvent for one attempt on `upstream` (stream SB_CALLS). */
export function callEventSubject(provider: string, upstream: string): string {
  return `sb.call.${provider}.${upstream}`;
}

/**
 * ApplicationFailure types: stable names that retry policies, callers and
 * the gateway match on (never message text).
 */
export const failureTypes = {
  /** One attempt failed; details carry the classification. */
  attemptFailed: 'SbAttemptFailed',
  /** The request itself is wrong (400): not retried, not a breaker failure. */
  invalidRequest: 'SbInvalidRequest',
  contextLength: 'SbContextLengthExceeded',
  contentPolicy: 'SbContentPolicy',
  /** Every attempt of the route failed; details carry the attempt log. */
  exhausted: 'SbUpstreamsExhausted',
  deadline: 'SbDeadlineExceeded',
} as const;

/** Workflow id of the probe workflow used by the harness slice and the demo. */
export function probeWorkflowId(runId: string): string {
  return `probe-${runId}`;
}
