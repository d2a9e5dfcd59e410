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

/** Workflow id of the probe workflow used by the harness slice and the demo. */
export function probeWorkflowId(runId: string): string {
  return `probe-${runId}`;
}
