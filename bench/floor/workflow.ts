/**
 * The floor: the cheapest durable shape of a call on the same Temporal
 * server — a workflow whose only step is one local activity that forwards the
 * request to the vendor. `make bench` measures it beside Switchboard.
 */
import { proxyLocalActivities } from '@temporalio/workflow';
import type { createFloorActivities } from './activities';

const { forwardToVendor } = proxyLocalActivities<ReturnType<typeof createFloorActivities>>({
  startToCloseTimeout: '60 seconds',
  retry: { maximumAttempts: 1 },
});

export async function floorCall(body: string): Promise<string> {
  return forwardToVendor(body);
}
