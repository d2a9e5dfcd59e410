import { ChildWorkflowFailure, executeChild, log, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { InsightsActivities, PublishedReport } from '../activities/insights';
import { namingRequest, readNaming } from '../lib/insights/naming';
import { renderInsightsMarkdown } from '../lib/insights/reports';
// Types only: zod schemas stay out of workflow code (callers parse at the boundary).
import type { ClusterNaming, InsightsJobInput, InsightsJobResult } from '../schemas/insights';
import { llmCall } from './llm-call';

const { analyseRejections } = proxyActivities<InsightsActivities>({
  // Reading a busy month of interactions takes a while; a worker that dies mid-read is retried.
  startToCloseTimeout: '10 minutes',
  retry: { maximumAttempts: 3 },
});
const { publishInsightsReport, writeInsightsReport, postInsightsReport } = proxyActivities<InsightsActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 5, initialInterval: '1 second' },
});

/**
 * The insights job: clusters a period's rejected interactions (an activity;
 * lib/insights/clusters.ts), optionally asks an LLM through Switchboard
 * itself (a child llmCall per cluster) to name each cluster and suggest a
 * cause, renders the Markdown report and delivers it: NATS `sb.insights`,
 * a file, and a webhook when configured. A failed naming call leaves that
 * cluster unnamed; it never fails the job.
 */
export async function insightsJob(input: InsightsJobInput = {}): Promise<InsightsJobResult> {
  const { workflowId, taskQueue } = workflowInfo();
  // Date.now() is the workflow's deterministic clock: the run's start, the same on every replay.
  const analysis = await analyseRejections({ ...input, untilMs: input.untilMs ?? Date.now() });
  const { report, period, tenant } = analysis;

  const namings: Array<ClusterNaming | null> = report.clusters.map(() => null);
  const naming = analysis.naming;
  if (naming) {
    await Promise.all(
      report.clusters.map(async (cluster, index) => {
        const callId = `${workflowId}/name-${index + 1}`;
        try {
          const result = await executeChild(llmCall, { workflowId: callId, taskQueue, args: [{ callId, request: namingRequest(cluster, naming) }] });
          const named = readNaming(result.output);
          if (named) namings[index] = { ...named, callId };
        } catch (error) {
          if (!(error instanceof ChildWorkflowFailure)) throw error;
          log.warn('insights: naming a cluster failed; it stays unnamed', { cluster: cluster.feature, error: error.message });
        }
      }),
    );
  }

  const markdown = renderInsightsMarkdown(report, period, {
    ...(tenant ? { tenant } : {}),
    truncated: analysis.truncated,
    namings: namings.map((n) => n ?? undefined),
  });
  const published: PublishedReport = { period, tenant: tenant ?? null, truncated: analysis.truncated, report, namings, markdown };
  await publishInsightsReport(published);
  const file = await writeInsightsReport({ markdown, periodEndMs: period.to, ...(tenant ? { tenant } : {}) });
  if (analysis.webhook) await postInsightsReport(published);
  return {
    period,
    ...(tenant ? { tenant } : {}),
    markdown,
    clusters: report.clusters.length,
    judged: report.judged,
    truncated: analysis.truncated,
    file,
    webhookPosted: analysis.webhook,
  };
}
