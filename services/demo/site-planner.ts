/**
 * The site-planner part of the demo: starts the site planner as an agentChain
 * run and prints its progress from the workflow's query until the plan is
 * done. `onFanOutMidway` fires once, when a third of the wireframes are done,
 * so the demo can kill the worker there and start another; progress queries
 * that fail while no worker is up are skipped, not fatal.
 */
import type { Client } from '@temporalio/client';
import { sitePlannerChain } from '../../lib/chains/site-planner';
import { createSwitchboardClient } from '../../lib/client';
import type { ChainProgress, ChainResult } from '../../schemas/chain';

export interface SitePlannerDemoOptions {
  client: Client;
  /** Default `switchboard`. */
  taskQueue?: string;
  /** Where progress lines go (e.g. the demo's `say`). */
  log: (line: string) => void;
  /** Pages of the planned site: pageCount + 2 calls. Default 24. */
  pageCount?: number;
  /** Route of the chain's calls. Default `site-planner`. */
  route?: string;
  /** Child calls in flight at once. Default 4, so the fan-out lasts long enough to watch. */
  maxConcurrency?: number;
  /** Called once when a third of the wireframes are done (kill the worker here). Default none. */
  onFanOutMidway?: (progress: ChainProgress) => Promise<void> | void;
  /** How often progress is polled. Default 500 ms. */
  pollMs?: number;
}

function describeProgress(p: ChainProgress): string {
  const steps = Object.entries(p.steps)
    .map(([id, s]) => `${id} ${s.completed}/${s.total ?? '?'}${s.running ? ` (${s.running} running)` : ''}`)
    .join(', ');
  return `  ${p.status}: ${steps}; ${p.callsCompleted} calls done, $${p.costUsd.toFixed(4)}`;
}

export async function runSitePlannerDemo(options: SitePlannerDemoOptions): Promise<ChainResult> {
  const { log, pageCount = 24, pollMs = 500 } = options;
  const sb = createSwitchboardClient({ client: options.client, ...(options.taskQueue ? { taskQueue: options.taskQueue } : {}) });
  const chain = sitePlannerChain({ route: options.route ?? 'site-planner', maxConcurrency: options.maxConcurrency ?? 4 });
  const handle = await sb.startChain({
    chain,
    input: {
      business: 'A family-run bike repair shop in Lyon',
      audience: 'commuters and weekend riders',
      goals: ['book repairs online', 'sell refurbished bikes'],
      pageCount,
    },
  });
  log(`Site planner started: ${handle.chainId} (${pageCount} pages → ${pageCount + 2} LLM calls as child workflows)`);

  const done = handle.result();
  let finished = false;
  void done.then(
    () => (finished = true),
    () => (finished = true),
  );
  let midwayFired = false;
  let lastLine = '';
  while (!finished) {
    const progress = await handle.progress().catch(() => undefined);
    if (progress) {
      const line = describeProgress(progress);
      if (line !== lastLine) log((lastLine = line));
      const wireframes = progress.steps.wireframes;
      if (!midwayFired && wireframes?.total && wireframes.completed >= wireframes.total / 3) {
        midwayFired = true;
        await options.onFanOutMidway?.(progress);
      }
    }
    await Promise.race([done.catch(() => undefined), new Promise((r) => setTimeout(r, pollMs))]);
  }
  const result = await done;
  const output = result.output as { siteName: string; pages: unknown[] };
  log(
    `Plan for "${output.siteName}" assembled: ${output.pages.length} pages, ${result.calls.length} calls, $${result.costUsd.toFixed(4)}, ${Math.round(result.latencyMs)} ms`,
  );
  return result;
}
