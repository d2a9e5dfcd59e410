/**
 * What Temporal and SB_CALLS say about the calls a chaos test made: the
 * llmCall workflows in a state, and the CallEvents stored for each, read back
 * one by one from the stream (through whichever nodes survive).
 */
import type { Client } from '@temporalio/client';
import type { JetStreamManager } from 'nats';
import { decodeJson } from '../../lib/nats/json-payload';
import { streams } from '../../lib/nats/streams';
import { waitFor } from '../../lib/ports';
import { CallEvent } from '../../schemas/call-event';

/** Workflow ids of the llmCall executions in `status`. */
export async function llmCalls(client: Client, status: 'Running' | 'Completed'): Promise<string[]> {
  const ids: string[] = [];
  for await (const w of client.workflow.list({ query: `WorkflowType = 'llmCall' AND ExecutionStatus = '${status}'` })) ids.push(w.workflowId);
  return ids;
}

/** Waits until no llmCall is running; returns how long that took. */
export async function untilNoCallRunning(client: Client, timeoutMs: number): Promise<number> {
  const started = Date.now();
  await waitFor('every accepted call to end', async () => (await llmCalls(client, 'Running')).length === 0, timeoutMs, 1_000);
  return Date.now() - started;
}

/** The attempt numbers of the CallEvents stored in SB_CALLS, by workflow id (anything else on the stream is skipped). */
export async function storedCallEvents(jsm: JetStreamManager): Promise<Map<string, Set<number>>> {
  const byWorkflow = new Map<string, Set<number>>();
  const { state } = await jsm.streams.info(streams.calls.name);
  for (let seq = state.first_seq; seq <= state.last_seq; seq += 1) {
    const message = await jsm.streams.getMessage(streams.calls.name, { seq }).catch(() => undefined);
    const event = message && CallEvent.safeParse(decodeJson(message.data));
    if (!event?.success) continue;
    const attempts = byWorkflow.get(event.data.workflowId) ?? new Set<number>();
    attempts.add(event.data.attempt);
    byWorkflow.set(event.data.workflowId, attempts);
  }
  return byWorkflow;
}

/** Calls of `workflowIds` with no CallEvent stored. */
export function callsWithoutEvents(workflowIds: string[], stored: Map<string, Set<number>>): string[] {
  return workflowIds.filter((id) => (stored.get(id)?.size ?? 0) === 0);
}

/**
 * Calls of `workflowIds` missing a CallEvent: none stored, or a gap in the
 * attempt numbers 1…n. Only where no worker died: an attempt lost with its
 * process reports nothing, and the call goes on with the next number.
 */
export function callsMissingEvents(workflowIds: string[], stored: Map<string, Set<number>>): string[] {
  return workflowIds.filter((id) => {
    const attempts = stored.get(id);
    return !attempts || attempts.size === 0 || attempts.size !== Math.max(...attempts);
  });
}
