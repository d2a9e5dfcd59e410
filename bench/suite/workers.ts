/**
 * A pool of Switchboard worker processes on one task queue, for the scale
 * and crash parts: grow it, SIGKILL its oldest member and replace it, stop it.
 */
import type { BenchStack } from './stack';
import { stopService, type ServiceProcess } from './services';

export interface WorkerPool {
  /** Workers whose /readyz answered and that have not been killed. */
  ready(): ServiceProcess[];
  /** Starts one more worker and waits until it is ready. */
  add(): Promise<ServiceProcess>;
  /** SIGKILLs the oldest ready worker and starts a replacement (not awaited); returns when the kill was sent. */
  killOldestAndReplace(): Promise<ServiceProcess | undefined>;
  /** Replacements still starting. */
  starting(): number;
  stop(): Promise<void>;
}

export function workerPool(stack: BenchStack, o: { taskQueue: string; cluster: string; log: (line: string) => void }): WorkerPool {
  const ready: ServiceProcess[] = [];
  const all: ServiceProcess[] = [];
  let spawned = 0;
  let starting = 0;
  let stopping = false;

  async function spawnOne(): Promise<ServiceProcess> {
    starting++;
    try {
      const { service, ready: isReady } = await stack.spawnWorker({ name: `worker-${++spawned}`, taskQueue: o.taskQueue, cluster: o.cluster });
      all.push(service);
      await isReady;
      ready.push(service);
      return service;
    } finally {
      starting--;
    }
  }

  return {
    ready: () => ready.filter((w) => w.isAlive()),
    add: spawnOne,
    async killOldestAndReplace() {
      const victim = ready.shift();
      if (!victim) return undefined;
      victim.child.kill('SIGKILL');
      await victim.exited;
      spawnOne().catch((error: unknown) => {
        if (!stopping) o.log(`a replacement worker did not start: ${String(error)}`);
      });
      return victim;
    },
    starting: () => starting,
    async stop() {
      stopping = true;
      await Promise.all(all.map((w) => stopService(w)));
    },
  };
}
