/**
 * Part 3, crashes: three worker processes on one task queue; while `calls`
 * llmCalls (open loop, typed client) and `chains` site-planner chains run, the
 * oldest worker is SIGKILLed every `killEveryMs` and a replacement started
 * (a node dying and its pod coming back). A kill is skipped while fewer than
 * three workers are ready, so "three workers, one killed" holds.
 *
 * Lost calls: calls or chains that did not succeed (must be 0). Paid twice:
 * successful vendor answers beyond one per call, and beyond the calls a
 * chain recorded (its steps and repairs), from the fake vendor's log. A
 * repeat is explained when the call (or one of the chain's calls) records an
 * attempt lost with its worker — the vendor answered, the worker died before
 * reporting it, Temporal retried the attempt: the unavoidable kind. A call's
 * first attempt runs inside its workflow task (a local activity), so its loss
 * shows in history as a workflow task that timed out or failed, not in the
 * call's attempt log: those count as lost attempts too. Any other repeat is a
 * completed step paid again, and fails the run.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { sitePlannerChain } from '../../lib/chains/site-planner';
import type { SwitchboardClient } from '../../lib/client';
import type { VendorRequestRecord } from '../../schemas/fake-vendor';
import { LlmResult } from '../../schemas/llm';
import { lostAttempts, typedCall } from './scale';
import { runOpenLoop, summarise, type CallOutcome, type LatencySummary } from './sdk-load';
import type { VendorAdmin } from './vendor-admin';
import type { WorkerPool } from './workers';

export interface CrashSizes {
  calls: number;
  chains: number;
  /** Pages of each chain's site: pageCount + 2 calls. */
  chainPages: number;
  baselineCalls: number;
  ratePerSecond: number;
  killEveryMs: number;
  /** Every vendor answer of the part is delayed this long (a latency fault). */
  vendorLatencyMs: number;
}

export interface CrashResult {
  sizes: CrashSizes;
  kills: number;
  killsSkippedWhileRecovering: number;
  lostCalls: number;
  lostChains: number;
  firstErrors: string[];
  /** Vendor answers beyond one per call. */
  callsPaidTwice: number;
  /** Of those, explained by an attempt the call records as lost with its worker. */
  callsPaidTwiceForLostAttempt: number;
  /** Vendor answers beyond the calls the chains recorded. */
  chainStepsPaidTwice: number;
  chainStepsPaidTwiceForLostAttempt: number;
  /** Attempts lost with a killed worker and retried, over every call and chain call. */
  lostAttempts: number;
  baseline: LatencySummary;
  underKills: LatencySummary;
  chainCalls: number;
  /** Successful calls (or chains) with fewer vendor answers than they recorded: the accounting could not see them; must be 0. */
  unmatchedInVendorLog: number;
}

const CHAT_PATHS = new Set(['/v1/chat/completions', '/v1/messages']);

// An answer was produced (the part's own latency fault still counts as `fault` in the log).
const isPaidAnswer = (r: VendorRequestRecord) => CHAT_PATHS.has(r.path) && r.status === 200 && r.completionTokens !== null;

/** Answers beyond `expected`, and how many of them the lost attempts explain. */
function repeats(answers: number, expected: number, lost: number): { extra: number; explained: number } {
  const extra = Math.max(0, answers - expected);
  return { extra, explained: Math.min(extra, lost) };
}

/** Workflow tasks of a call that timed out or failed: each may have run (and paid for) the call's local first attempt before it was lost. */
async function lostWorkflowTasks(client: Client, workflowId: string): Promise<number> {
  const { events } = await client.workflow.getHandle(workflowId).fetchHistory();
  return (events ?? []).filter((e) => e.workflowTaskTimedOutEventAttributes || e.workflowTaskFailedEventAttributes).length;
}

/** Lost attempts over a chain's calls, from each child llmCall's own result. */
async function chainLostAttempts(client: Client, workflowIds: string[]): Promise<number> {
  const results = await Promise.all(workflowIds.map(async (id) => LlmResult.pick({ attempts: true }).parse(await client.workflow.getHandle(id).result())));
  return results.reduce((sum, r) => sum + lostAttempts(r.attempts), 0);
}

export async function measureCrashes(
  sb: SwitchboardClient,
  client: Client,
  pool: WorkerPool,
  admin: VendorAdmin,
  organisations: string[],
  sizes: CrashSizes,
  log: (line: string) => void,
): Promise<CrashResult> {
  const runId = randomUUID().slice(0, 8);
  while (pool.ready().length < 3) await pool.add();
  // Answers take as long as a short real completion, so kills land while attempts are in flight.
  await admin.setFaults(
    organisations.map((organisation) => ({ organisation, promptContains: `crash-${runId}-`, fault: { kind: 'latency' as const, ms: sizes.vendorLatencyMs } })),
  );
  try {
    return await measureUnderKills(sb, client, pool, admin, sizes, runId, log);
  } finally {
    await admin.clearFaults();
  }
}

async function measureUnderKills(
  sb: SwitchboardClient,
  client: Client,
  pool: WorkerPool,
  admin: VendorAdmin,
  sizes: CrashSizes,
  runId: string,
  log: (line: string) => void,
): Promise<CrashResult> {
  const baselineRun = await runOpenLoop((i) => typedCall(sb, `crash-${runId}-base-${i}: a tagline for a gym.`), {
    ratePerSecond: sizes.ratePerSecond,
    durationMs: (sizes.baselineCalls * 1000) / sizes.ratePerSecond,
    maxInFlight: 1_000,
  });
  log(
    `crashes baseline: ${baselineRun.outcomes.length} calls, no kills: p50 ${summarise(baselineRun.outcomes).p50Ms} p99 ${summarise(baselineRun.outcomes).p99Ms} ms`,
  );

  const killTimes: number[] = [];
  let skipped = 0;
  let killing = true;
  const killer = (async () => {
    while (killing) {
      await new Promise((r) => setTimeout(r, sizes.killEveryMs));
      if (!killing) break;
      if (pool.ready().length < 3 || pool.starting() > 0) {
        skipped++;
        continue;
      }
      const victim = await pool.killOldestAndReplace();
      if (victim) {
        killTimes.push(Date.now());
        log(`crashes: SIGKILL ${victim.name} (kill ${killTimes.length})`);
      }
    }
  })();

  const chainMarkers = Array.from({ length: sizes.chains }, (_, i) => `crash-${runId}-chain-${String(i).padStart(3, '0')}`);
  const phaseMs = (sizes.calls * 1000) / sizes.ratePerSecond;
  const chainResults = chainMarkers.map((marker, i) =>
    new Promise((r) => setTimeout(r, (i * phaseMs) / Math.max(1, sizes.chains)))
      .then(() =>
        sb.runChain({
          chain: sitePlannerChain({ route: 'site-planner', maxConcurrency: 4 }),
          input: { business: `Bakery ${marker}`, audience: 'neighbours', goals: [`order cakes ${marker}`], pageCount: sizes.chainPages },
        }),
      )
      .then(
        (result) => ({ ok: true as const, marker, calls: result.calls.length, workflowIds: result.calls.map((c) => c.workflowId) }),
        (error: unknown) => ({ ok: false as const, marker, error: String(error).slice(0, 200) }),
      ),
  );
  const callMarker = (i: number) => `crash-${runId}-call-${String(i).padStart(5, '0')}`;
  const run = await runOpenLoop((i) => typedCall(sb, `${callMarker(i)} a tagline for a gym.`), {
    ratePerSecond: sizes.ratePerSecond,
    durationMs: phaseMs,
    maxInFlight: 10_000,
  });
  const chains = await Promise.all(chainResults);
  killing = false;
  await killer;

  const answers = (await admin.requests({ contains: [`crash-${runId}-`], includePrompt: true })).filter(isPaidAnswer);
  const byMarker = (marker: string) => answers.filter((r) => (r.promptText ?? '').includes(marker));

  let unmatched = 0;
  let lost = 0;
  const calls = { extra: 0, explained: 0 };
  for (const [i, outcome] of run.outcomes.entries()) {
    const mine = byMarker(callMarker(i));
    if (outcome.ok && mine.length === 0) unmatched++;
    // Only a call paid more than once needs its history read.
    const lostLocal = mine.length > 1 + (outcome.lostAttempts ?? 0) && outcome.workflowId ? await lostWorkflowTasks(client, outcome.workflowId) : 0;
    lost += (outcome.lostAttempts ?? 0) + lostLocal;
    const r = repeats(mine.length, 1, (outcome.lostAttempts ?? 0) + lostLocal);
    calls.extra += r.extra;
    calls.explained += r.explained;
  }
  const steps = { extra: 0, explained: 0 };
  for (const chain of chains) {
    if (!chain.ok) continue;
    const mine = byMarker(chain.marker);
    if (mine.length < chain.calls) unmatched++;
    const chainLost = await chainLostAttempts(client, chain.workflowIds);
    lost += chainLost;
    const r = repeats(mine.length, chain.calls, chainLost);
    steps.extra += r.extra;
    steps.explained += r.explained;
  }
  const failedCalls: CallOutcome[] = run.outcomes.filter((o) => !o.ok);
  return {
    sizes,
    kills: killTimes.length,
    killsSkippedWhileRecovering: skipped,
    lostCalls: failedCalls.length,
    lostChains: chains.filter((c) => !c.ok).length,
    firstErrors: [...new Set([...failedCalls.map((o) => o.error ?? 'unknown'), ...chains.flatMap((c) => (c.ok ? [] : [c.error]))])].slice(0, 3),
    callsPaidTwice: calls.extra,
    callsPaidTwiceForLostAttempt: calls.explained,
    chainStepsPaidTwice: steps.extra,
    chainStepsPaidTwiceForLostAttempt: steps.explained,
    lostAttempts: lost,
    baseline: summarise(baselineRun.outcomes),
    underKills: summarise(run.outcomes),
    chainCalls: chains.reduce((sum, c) => sum + (c.ok ? c.calls : 0), 0),
    unmatchedInVendorLog: unmatched,
  };
}
