import { proxyActivities } from '@temporalio/workflow';
import type { createProbeActivities } from '../activities/probe';
import type { ProbeInput } from '../schemas/probe';

const { publishProbeEvent } = proxyActivities<ReturnType<typeof createProbeActivities>>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['ProbeFailure'] },
});

/** Publishes one probe event through an activity and returns its stream sequence. */
export async function probe(input: ProbeInput): Promise<{ seq: number; publishedAt: string }> {
  const event = await publishProbeEvent(input);
  return { seq: event.seq, publishedAt: event.publishedAt };
}
