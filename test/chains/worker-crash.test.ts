/**
 * The worker running a chain dies (SIGKILL) twice during the fan-out; a new
 * worker takes over each time. The chain finishes with exactly the result of
 * an undisturbed run, and the vendor's log shows every call paid once,
 * except those in flight at a kill.
 */
import { randomUUID } from 'node:crypto';
import { sitePlannerChain } from '../../lib/chains/site-planner';
import type { ChainHandle } from '../../lib/client';
import type { ChainProgress, ChainResult } from '../../schemas/chain';
import type { VendorRequestRecord } from '../../schemas/fake-vendor';
import { eventually, startSwitchboard, switchboardConfig, type SwitchboardUnderTest } from '../harness/switchboard';
import { spawnWorker, writeConfigFile, type WorkerProcess } from '../harness/worker-process';

const PAGES = 18;
const CONCURRENCY = 3;
const WIREFRAME_LATENCY_MS = 500;
// One upstream, no fallback: a retried call hits the same model, so its answer (a function of model and prompt) is the same.
const chain = sitePlannerChain({ route: 'solo-only', maxConcurrency: CONCURRENCY });

function countByPrompt(records: VendorRequestRecord[]): Map<string, VendorRequestRecord[]> {
  const byHash = new Map<string, VendorRequestRecord[]>();
  for (const r of records) {
    const hash = r.promptHash ?? 'no prompt';
    byHash.set(hash, [...(byHash.get(hash) ?? []), r]);
  }
  return byHash;
}

describe('agentChain when the worker running it is killed', () => {
  let reference: SwitchboardUnderTest | undefined;
  let t: SwitchboardUnderTest | undefined;
  const workers: WorkerProcess[] = [];

  afterAll(async () => {
    for (const w of workers) w.kill('SIGKILL');
    await reference?.close();
    await t?.close();
  });

  async function spawnReadyWorker(): Promise<WorkerProcess> {
    const worker = spawnWorker({ configPath: writeConfigFile(switchboardConfig(t!.vendor.url)), taskQueue: t!.taskQueue, controlBucket: t!.controlBucket });
    workers.push(worker);
    await eventually('a worker process to start', () => worker.output().includes('worker started') || undefined, 60_000);
    return worker;
  }

  async function progressOf(handle: ChainHandle): Promise<ChainProgress | undefined> {
    return handle.progress().catch(() => undefined);
  }

  async function killWhen(handle: ChainHandle, worker: WorkerProcess, completedAtLeast: number): Promise<{ at: number; completed: number }> {
    const progress = await eventually(
      `${completedAtLeast} wireframes done`,
      async () => {
        const p = await progressOf(handle);
        return p && p.steps.wireframes!.completed >= completedAtLeast ? p : undefined;
      },
      90_000,
    );
    const at = Date.now();
    worker.kill('SIGKILL');
    expect(await worker.exited).toBe('SIGKILL');
    return { at, completed: progress.steps.wireframes!.completed };
  }

  it('finishes with the undisturbed result, paying once for every call not in flight at a kill', async () => {
    const m = `crash-${randomUUID().slice(0, 8)}`;
    const input = { business: `Bike repair ${m}`, audience: 'commuters', goals: [`book repairs ${m}`], pageCount: PAGES };

    reference = await startSwitchboard();
    const expected: ChainResult = await reference.sb.runChain({ chain, input });
    const expectedPrompts = new Set(reference.vendor.requests({ contains: [m] }).map((r) => r.promptHash));
    expect(expectedPrompts.size).toBe(PAGES + 2);

    t = await startSwitchboard({ withWorker: false });
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: `${m} (audience`, fault: { kind: 'latency', ms: WIREFRAME_LATENCY_MS } });
    const first = await spawnReadyWorker();
    const handle = await t.sb.startChain({ chain, input });
    const kill1 = await killWhen(handle, first, 3);
    const second = await spawnReadyWorker();
    const kill2 = await killWhen(handle, second, kill1.completed + 6);
    await spawnReadyWorker();
    const result = await handle.result();

    // Both kills landed during the fan-out.
    for (const kill of [kill1, kill2]) {
      expect(kill.completed).toBeGreaterThan(0);
      expect(kill.completed).toBeLessThan(PAGES);
    }
    expect(result.output).toEqual(expected.output);
    expect(result.steps).toEqual(expected.steps);

    // The vendor saw every prompt of the chain; a prompt sent twice was in flight when a worker died.
    const sent = countByPrompt(t.vendor.requests({ contains: [m] }));
    expect(new Set(sent.keys())).toEqual(expectedPrompts);
    const repeated = [...sent.values()].filter((records) => records.length > 1);
    for (const records of repeated) {
      expect(records).toHaveLength(2);
      // A kill fell between the two sends: the first was in flight, or answered but not yet reported to Temporal, when its
      // worker died (on a loaded machine that report can lag the answer by many seconds, so no time bound is assumed).
      const [once, again] = [records[0]!.time, records[1]!.time];
      const killedBetween = [kill1.at, kill2.at].some((killAt) => once <= killAt && killAt <= again);
      expect(killedBetween).toBe(true);
    }
    expect(repeated.length).toBeLessThanOrEqual(2 * CONCURRENCY);
    expect(result.calls).toHaveLength(PAGES + 2);
  }, 240_000);
});
