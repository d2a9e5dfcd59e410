/**
 * `POST /v1/chains` starts an agent chain (by name: config `chains` or the
 * built-in site planner) and answers 202 with its id; `GET /v1/chains/:id`
 * answers progress while it runs and the result or error when it is done. A
 * tenant sees only its own chains (another tenant's id is "not found").
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { describeChainRun, startChainRun } from '../../lib/chains/client-facing';
import { isSwitchboardRequestError } from '../../lib/client/errors';
import { describeOwned } from '../../lib/tenancy/ownership';
import type { GatewayContext } from './context';
import { badRequest, badRequestOfIssues, GatewayError } from './http-errors';
import { decodePathParam, parseJsonBody, readBody, sendJson } from './http-io';
import { workflowTypes } from '../../contracts/workflow-types';

const ChainBody = z.strictObject({
  chain: z.string().min(1),
  input: z.unknown(),
  user: z.string().min(1).max(200).optional(),
});

export async function handleStartChain(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const tenant = ctx.tenants.authenticate(req);
  const parsed = ChainBody.safeParse(parseJsonBody(await readBody(req, ctx.config.gateway.maxBodyBytes)));
  if (!parsed.success) throw badRequestOfIssues(parsed.error.issues, 'invalid chain request');
  const idempotencyKey = req.headers['idempotency-key'];
  try {
    const handle = await startChainRun(
      ctx.client,
      { ...parsed.data, tenant: tenant.id, ...(typeof idempotencyKey === 'string' ? { idempotencyKey } : {}) },
      { registry: ctx.chains, ...(ctx.taskQueue ? { taskQueue: ctx.taskQueue } : {}) },
    );
    sendJson(res, 202, { id: handle.workflowId, status: 'running' }, { location: `/v1/chains/${encodeURIComponent(handle.workflowId)}` });
  } catch (error) {
    if (isSwitchboardRequestError(error)) throw badRequest(error.message, error.field, 'invalid_parameter');
    throw error;
  }
}

/** `rawChainId` is the path segment as sent: decoded only once the caller is authenticated. */
export async function handleDescribeChain(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse, rawChainId: string): Promise<void> {
  const tenant = ctx.tenants.authenticate(req);
  const chainId = decodePathParam(rawChainId, 'id');
  const notFound = new GatewayError(404, 'not_found_error', `no chain "${chainId}" for this API key`, { code: 'chain_not_found' });
  if (!(await describeOwned(ctx.client, { workflowId: chainId, tenant: tenant.id, workflowType: workflowTypes.agentChain }))) throw notFound;
  sendJson(res, 200, await describeChainRun(ctx.client, chainId));
}
