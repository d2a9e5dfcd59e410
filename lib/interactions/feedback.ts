/**
 * Records a caller's verdict on one call, for the gateway's `POST
 * /v1/feedback` and the typed client alike: the call must be an llmCall
 * whose tenant search attribute is the caller's tenant, else it is "not
 * found" (another tenant's call is never revealed to exist). The verdict
 * goes to SB_FEEDBACK on `sb.feedback.<tenant>`; the interaction join reads
 * it there.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { JSONCodec, type NatsConnection } from 'nats';
import type { Feedback, FeedbackRequest } from '../../schemas/interaction';
import { feedbackSubject } from '../../contracts/names';
import type { Outbox } from '../nats/outbox';
import { describeOwned } from '../tenancy/ownership';
import { workflowTypes } from '../../contracts/workflow-types';

export interface FeedbackDeps {
  client: Client;
  nats: NatsConnection;
  /** Publishes through the process's outbox (a NATS blip delays the verdict instead of losing it). Default: JetStream directly. */
  outbox?: Outbox;
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

/** Publishes `request` for `tenant` once the call is known to be that tenant's; throws UnknownCallError otherwise. */
export async function recordFeedback(deps: FeedbackDeps, tenant: string, request: FeedbackRequest): Promise<Feedback> {
  if (!(await describeOwned(deps.client, { workflowId: request.callId, tenant, workflowType: workflowTypes.llmCall })))
    throw new UnknownCallError(request.callId);
  const feedback: Feedback = {
    callId: request.callId,
    tenant,
    inserted: request.inserted,
    ...(request.note !== undefined ? { note: request.note } : {}),
    at: (deps.now ?? Date.now)(),
  };
  // One msgID per verdict: a publish retried by the outbox is stored once.
  const msgID = `feedback-${randomUUID()}`;
  if (deps.outbox) await deps.outbox.publish(feedbackSubject(tenant), codec.encode(feedback), msgID);
  else await deps.nats.jetstream().publish(feedbackSubject(tenant), codec.encode(feedback), { msgID });
  return feedback;
}
