/**
 * `switchboard insights run [--days N] [--tenant T] [--json]`: runs the
 * insights job now (the same workflow the Schedule starts, on the workers of
 * SB_TASK_QUEUE), waits for it and prints its Markdown report — or the
 * whole result as JSON.
 */
import { randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import { connectClient, temporalConnectionOptions } from '../../lib/config/temporal-connection';
import type { InsightsJobInput, InsightsJobResult } from '../../schemas/insights';
import { type InsightsJobWorkflow, workflowTypes } from '../../contracts/workflow-types';
import { CliUsageError, type CliContext } from './commands';
import { payloadDataConverter } from '../../lib/codec';

/** An on-demand run may wait this long for its workflow (a worker must be polling the task queue). */
const RUN_TIMEOUT_MS = 15 * 60_000;

export async function runInsightsJob(client: Client, taskQueue: string, input: InsightsJobInput): Promise<InsightsJobResult> {
  return client.workflow.execute<InsightsJobWorkflow>(workflowTypes.insightsJob, {
    taskQueue,
    workflowId: `insights-manual-${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 8)}`,
    args: [input],
    workflowExecutionTimeout: RUN_TIMEOUT_MS,
  });
}

export async function runInsights(ctx: CliContext, flags: { days?: string; tenant?: string }): Promise<void> {
  const days = flags.days === undefined ? undefined : Number(flags.days);
  if (days !== undefined && (!Number.isFinite(days) || days <= 0 || days > 366))
    throw new CliUsageError(`--days must be a number of days above 0 and at most 366, got "${flags.days}"`);
  const connection = await connectClient(temporalConnectionOptions({ address: ctx.env.TEMPORAL_ADDRESS, env: ctx.env }));
  try {
    const client = new Client({ connection, namespace: ctx.env.TEMPORAL_NAMESPACE, dataConverter: payloadDataConverter(ctx.env) });
    const result = await runInsightsJob(client, ctx.env.SB_TASK_QUEUE, {
      ...(days !== undefined ? { days } : {}),
      ...(flags.tenant ? { tenant: flags.tenant } : {}),
    });
    ctx.print(ctx.json ? JSON.stringify(result) : `${result.markdown}\n${result.file ? `\n(written to ${result.file})` : ''}`);
  } finally {
    await connection.close();
  }
}
