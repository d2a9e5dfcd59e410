/**
 * Records a caller's verdict on one call, for the gateway's `POST
 * /v1/feedback` and the typed client alike: the call must be an llmCall
 * whose tenant search attribute is the caller's tenant, else it is "not
 * found" (another tenant's call is never revealed to exist). The verdict
 * goes to SB_FEEDBACK on `sb.feedback.<tenant>`; the interaction join reads
 * it there.
 */
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { JSONCodec, type NatsConnection } from 'nats';
import type { Feedback, FeedbackRequest } from '../../schemas/interaction';
import { feedbackSubject, searchAttributes } from '../../workflows/definitions';

export interface FeedbackDeps {
  client: Client;
  nats: NatsConnection;
  /** Clock for `at`. Default Date.now. */
  now?: () => number;
}

/** The call id is unknown, not an LLM call, or another tenant's. */
export class UnknownCallError extends Error {
  override readonly name = 'UnknownCallError';
  constructor(readonly callId: string) {
    super(`no call "${callId}" for this tenant`);
  }
}

export function isUnknownCallError(error: unknown): error is UnknownCallError {
  return error instanceof Error && error.name === 'UnknownCallError';
}

const codec = JSONCodec<Feedback>();

/** The tenant of an llmCall execution, or undefined when there is no such call. */
async function tenantOfCall(client: Client, callId: string): Promise<string | undefined> {
  try {
    const description = await client.workflow.getHandle(callId).describe();
    if (description.type !== 'llmCall') return undefined;
    const tenant = description.typedSearchAttributes.get(searchAttributes.tenant);
    return typeof tenant === 'string' ? tenant : undefined;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
}

/** Publishes `request` for `tenant` once the call is known to be that tenant's; throws UnknownCallError otherwise. */
export async function recordFeedback(deps: FeedbackDeps, tenant: string, request: FeedbackRequest): Promise<Feedback> {
  if ((await tenantOfCall(deps.client, request.callId)) !== tenant) throw new UnknownCallError(request.callId);
  const feedback: Feedback = {
    callId: request.callId,
    tenant,
    inserted: request.inserted,
    ...(request.note !== undefined ? { note: request.note } : {}),
    at: (deps.now ?? Date.now)(),
  };
  await deps.nats.jetstream().publish(feedbackSubject(tenant), codec.encode(feedback));
  return feedback;
}
