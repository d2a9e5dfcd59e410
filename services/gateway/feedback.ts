/**
 * `POST /v1/feedback {callId, inserted, note?}`: the caller's verdict on one
 * call, recorded by lib/interactions/feedback.ts (the typed client's
 * `feedback()` shares it). A tenant reaches only its own calls: any other
 * call id is "not found" (its existence is not revealed).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isUnknownCallError, recordFeedback } from '../../lib/interactions/feedback';
import { FeedbackRequest } from '../../schemas/interaction';
import type { GatewayContext } from './context';
import { badRequestOfIssues, GatewayError } from './http-errors';
import { parseJsonBody, readBody, sendJson } from './http-io';

export const FeedbackBody = FeedbackRequest.strict();

export async function handleFeedback(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const tenant = ctx.tenants.authenticate(req);
  const parsed = FeedbackBody.safeParse(parseJsonBody(await readBody(req, ctx.config.gateway.maxBodyBytes)));
  if (!parsed.success) throw badRequestOfIssues(parsed.error.issues, 'invalid feedback');
  const body = parsed.data;
  try {
    await recordFeedback({ client: ctx.client, nats: ctx.nats, outbox: ctx.outbox }, tenant.id, body);
  } catch (error) {
    if (!isUnknownCallError(error)) throw error;
    throw new GatewayError(404, 'not_found_error', `no call "${body.callId}" for this API key`, { code: 'call_not_found', param: 'callId' });
  }
  ctx.metrics.feedback.inc({ inserted: String(body.inserted) });
  sendJson(res, 202, { accepted: true, callId: body.callId });
}
