/**
 * Every timer the fake vendor starts (delays, stream pacing, stalls, scenario
 * steps) goes through one scheduler, so closing the vendor cancels them all
 * and a test process exits cleanly.
 */

export interface Scheduler {
  /** Runs `task` after `delayMs`; the returned function cancels it. */
  after(delayMs: number, task: () => void): () => void;
  /** Cancels everything and refuses new timers. */
  close(): void;
  readonly pendingCount: number;
}

export function createScheduler(): Scheduler {
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;
  return {
    after(delayMs, task) {
      if (closed) return () => undefined;
      const timer = setTimeout(
        () => {
          timers.delete(timer);
          task();
        },
        Math.max(0, delayMs),
      );
      timers.add(timer);
      return () => {
        clearTimeout(timer);
        timers.delete(timer);
      };
    },
    close() {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
    get pendingCount() {
      return timers.size;
    },
  };
}
