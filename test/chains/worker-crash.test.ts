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
    for (const records of repeated) expect(records).toHaveLength(2);
    // Each repeat is explained: a kill fell between its two sends (the first was in flight, or answered but not yet
    // reported, when its worker died), or the chain's calls record an attempt retried (on a loaded machine an attempt on
    // a live worker can time out too, and a request sent a moment before the kill can reach the vendor just after it).
    const killedBetween = (records: VendorRequestRecord[]) => [kill1.at, kill2.at].some((killAt) => records[0]!.time <= killAt && killAt <= records[1]!.time);
    const retried = result.calls.reduce((n, call) => n + Math.max(0, call.attempts - 1), 0);
    expect(repeated.filter((records) => !killedBetween(records)).length).toBeLessThanOrEqual(retried);
    expect(repeated.length).toBeLessThanOrEqual(2 * CONCURRENCY);
    expect(result.calls).toHaveLength(PAGES + 2);
  }, 240_000);
});
