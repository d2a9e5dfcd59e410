/**
 * Demo, last part: a batch of calls for two features with synthetic
 * feedback (users reject images on transparent backgrounds, and button texts
 * that run long), the insert-rate report of the batch, then the insights job
 * run on demand — the same workflow the weekly Schedule starts — and its
 * Markdown report.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { NatsConnection } from 'nats';
import { createSwitchboardClient } from '../../lib/client';
import { buildCostReport, buildInsertRateReport, formatCostReport, formatInsertRateReport } from '../../lib/insights/usage-report';
import { loadJudgedInteractions } from '../../lib/interactions/load';
import { runInsightsJob } from '../cli/insights';

export interface InsightsDemoContext {
  client: Client;
  nats: NatsConnection;
  taskQueue: string;
  say: (line: string) => void;
}

const TENANT = 'demo';
const subjects = ['a red bicycle', 'a mountain lake', 'a city skyline', 'a bowl of fruit', 'an old lighthouse', 'a cat on a sofa'];

/** Who keeps what: a fixed pattern, so every run tells the same story. */
function traffic(run: string) {
  const calls: Array<{ feature: string; user: string; content: string; inserted: boolean }> = [];
  let plain = 0;
  for (let i = 0; i < 32; i++) {
    const transparent = i % 4 === 0;
    const subject = subjects[i % subjects.length]!;
    calls.push({
      feature: 'image',
      user: `user-${i % 3}`,
      content: `Describe ${subject} ${transparent ? 'on a transparent background' : 'in watercolour'} (${run}) [[tokens:12]]`,
      inserted: transparent ? i === 0 : plain++ % 8 !== 3,
    });
  }
  for (let j = 0; j < 12; j++) {
    const long = j % 2 === 0;
    calls.push({
      feature: 'button',
      user: 'user-9',
      content: `Button text for the bakery signup page (${run}) ${long ? '[[tokens:60]]' : '[[tokens:3]]'}`,
      inserted: long ? j === 0 : j !== 1,
    });
  }
  return calls;
}

export async function demoInsights({ client, nats, taskQueue, say }: InsightsDemoContext): Promise<void> {
  const sb = createSwitchboardClient({ client, taskQueue, nats });
  const run = randomUUID().slice(0, 8);
  const sinceMs = Date.now() - 1_000;
  const calls = traffic(run);
  say(`insert rate: ${calls.length} calls for the features image and button, and a verdict on each (sb.feedback): did the user insert the answer?`);
  say("  (the fake vendor's [[tokens:N]] directive makes half the button texts run long; users reject almost every image on a transparent background)");
  for (let i = 0; i < calls.length; i += 8) {
    await Promise.all(
      calls.slice(i, i + 8).map(async (call) => {
        const result = await sb.complete({
          route: 'chat-default',
          tenant: TENANT,
          user: call.user,
          feature: call.feature,
          messages: [{ role: 'user', content: call.content }],
        });
        await sb.feedback(result.callId, { tenant: TENANT, inserted: call.inserted });
      }),
    );
  }
  const untilMs = Date.now();
  const loaded = await loadJudgedInteractions(nats, { tenant: TENANT, sinceMs, untilMs });
  const scope = { tenant: TENANT, sinceMs, untilMs, truncated: loaded.truncated };
  const indent = (text: string) =>
    text
      .split('\n')
      .map((line) => `    ${line}`)
      .join('\n');
  console.log(indent(formatInsertRateReport(buildInsertRateReport(loaded.interactions, ['feature', 'provider'], scope))));
  console.log(`\n${indent(formatCostReport(buildCostReport(loaded.interactions, ['user'], scope)))}`);
  say('  the same from `npm run cli -- report --tenant demo --days 1` or GET /v1/reports/insert-rate?by=feature (tenant-scoped by the API key)');

  say('the insights job, on demand (`npm run cli -- insights run`; a Temporal Schedule runs it weekly): clusters the rejected calls');
  const result = await runInsightsJob(client, taskQueue, { tenant: TENANT, sinceMs, untilMs });
  console.log(indent(result.markdown.trimEnd()));
  say(`  published on NATS sb.insights and written to ${result.file ?? '(no file)'}`);
}
