/**
 * `switchboard drill <route> [<route>…] [--json]`: runs the fallback drill
 * workflow now (on the workers of SB_TASK_QUEUE) and prints one line per
 * route entry — or the run as JSON. Exits 1 when any entry failed, so a
 * deploy pipeline can gate on it. Also used by the demo.
 */
import { randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import { connectClient, temporalConnectionOptions } from '../../lib/config/temporal-connection';
import { drillEntryLabel, type DrillInput, type DrillRun } from '../../schemas/drill';
import { drillWorkflowId } from '../../contracts/names';
import { type FallbackDrillWorkflow, workflowTypes } from '../../contracts/workflow-types';
import { CliInputError, type CliContext } from './commands';
import { payloadDataConverter } from '../../lib/codec';

/** A drill that ran and found a failing entry: exit code 1 after the report is printed. */
export class DrillFailedError extends Error {
  override readonly name = 'DrillFailedError';
}

/** An operator's drill can wait this long for its workflow (a worker must be polling the task queue). */
const DRILL_RUN_TIMEOUT_MS = 10 * 60_000;

/** Starts a drill of `routes` on `taskQueue` and waits for its result. */
export async function runDrillWorkflow(client: Client, taskQueue: string, routes: string[]): Promise<DrillRun> {
  const input: DrillInput = { routes, trigger: 'operator' };
  return client.workflow.execute<FallbackDrillWorkflow>(workflowTypes.fallbackDrill, {
    taskQueue,
    workflowId: drillWorkflowId(() => randomUUID()),
    args: [input],
    workflowExecutionTimeout: DRILL_RUN_TIMEOUT_MS,
  });
}

function detailOf(sample: DrillRun['reports'][number]['entries'][number]['samples'][number]): string {
  if (sample.result === 'pass') return `"${(sample.answerPreview ?? '').replace(/\s+/g, ' ').slice(0, 40)}"`;
  return `${sample.outcome ?? 'failed'} ${sample.errorType ?? ''}${sample.status !== undefined ? ` (${sample.status})` : ''}`.trim();
}

/** One line per entry: the worst sample's detail (a failed one if any). */
export function formatDrillTable(run: DrillRun): string {
  const header = ['ROUTE', 'ENTRY', 'ROLE', 'PROMPT VARIANT', 'RESULT', 'UPSTREAM', 'LATENCY', 'DETAIL'];
  const rows = run.reports.flatMap((report) =>
    report.entries.map((entry) => {
      const shown = entry.samples.find((s) => s.result === 'fail') ?? entry.samples[0]!;
      const upstreams = [...new Set(entry.samples.map((s) => s.upstream ?? '-'))].join(',');
      return [
        report.route,
        drillEntryLabel(entry),
        entry.role,
        entry.promptVariant,
        entry.result.toUpperCase(),
        upstreams,
        `${Math.round(entry.latencyMs)} ms`,
        detailOf(shown),
      ];
    }),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  const failed = run.reports.flatMap((r) => r.entries).filter((e) => e.result === 'fail').length;
  const total = run.reports.reduce((n, r) => n + r.entries.length, 0);
  const summary = `drill ${run.drillId}: ${failed === 0 ? 'every entry passed' : `${failed} of ${total} entries FAILED`} (${((run.finishedAt - run.startedAt) / 1000).toFixed(1)} s)`;
  return [line(header), ...rows.map(line), '', summary].join('\n');
}

export async function runDrill(ctx: CliContext, routes: string[]): Promise<void> {
  const known = Object.keys(ctx.config.routes);
  const unknown = routes.filter((r) => !ctx.config.routes[r]);
  if (unknown.length) throw new CliInputError(`unknown route "${unknown[0]}" (known: ${known.join(', ')})`);
  const connection = await connectClient(temporalConnectionOptions({ address: ctx.env.TEMPORAL_ADDRESS, env: ctx.env }));
  try {
    const client = new Client({ connection, namespace: ctx.env.TEMPORAL_NAMESPACE, dataConverter: payloadDataConverter(ctx.env) });
    const run = await runDrillWorkflow(client, ctx.env.SB_TASK_QUEUE, routes);
    ctx.print(ctx.json ? JSON.stringify(run) : formatDrillTable(run));
    if (run.result === 'fail')
      throw new DrillFailedError(
        `drill ${run.drillId} failed: ${run.reports
          .filter((r) => r.result === 'fail')
          .map((r) => r.route)
          .join(', ')}`,
      );
  } finally {
    await connection.close();
  }
}
