/**
 * `POST /v1/feedback {callId, inserted, note?}`: the caller's verdict on one
 * call, published on `sb.feedback.<tenant>` (stream SB_FEEDBACK) for the
 * interaction records. A tenant reaches only its own calls: the call's
 * tenant search attribute must match the key's tenant, and any other call
 * id is "not found" (its existence is not revealed).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { WorkflowNotFoundError } from '@temporalio/client';
import { JSONCodec } from 'nats';
import { z } from 'zod';
import { feedbackSubject, searchAttributes } from '../../workflows/definitions';
import type { GatewayContext } from './context';
import { badRequest, GatewayError } from './http-errors';
import { parseJsonBody, readBody, sendJson } from './http-io';

export const FeedbackBody = z.strictObject({
  callId: z.string().min(1).max(300),
  inserted: z.boolean(),
  note: z.string().max(2_000).optional(),
});

/** What lands on SB_FEEDBACK. */
export const FeedbackEvent = FeedbackBody.extend({ tenant: z.string(), at: z.number() });
export type FeedbackEvent = z.infer<typeof FeedbackEvent>;

const codec = JSONCodec<FeedbackEvent>();

async function callTenant(ctx: GatewayContext, callId: string): Promise<string | undefined> {
  try {
    const description = await ctx.client.workflow.getHandle(callId).describe();
    const values = description.typedSearchAttributes.get(searchAttributes.tenant);
    return typeof values === 'string' ? values : undefined;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
}

export async function handleFeedback(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const tenant = ctx.tenants.authenticate(req);
  const parsed = FeedbackBody.safeParse(parseJsonBody(await readBody(req, ctx.config.gateway.maxBodyBytes)));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const param = issue.path.map(String).join('.');
    throw badRequest(`invalid feedback${param ? ` "${param}"` : ''}: ${issue.message}`, param || undefined, 'invalid_parameter');
  }
  const body = parsed.data;
  if ((await callTenant(ctx, body.callId)) !== tenant.id) {
    throw new GatewayError(404, 'not_found_error', `no call "${body.callId}" for this API key`, { code: 'call_not_found', param: 'callId' });
  }
  const event: FeedbackEvent = { ...body, tenant: tenant.id, at: Date.now() };
  await ctx.nats.jetstream().publish(feedbackSubject(tenant.id), codec.encode(event));
  ctx.metrics.feedback.inc({ inserted: String(body.inserted) });
  sendJson(res, 202, { accepted: true, callId: body.callId });
}
