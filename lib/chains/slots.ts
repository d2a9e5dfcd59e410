/**
 * A counting semaphore for workflow code: caps the child calls of a chain in
 * flight. Waiters are served first come, first served and a released slot is
 * handed straight to the next waiter, so two waiters can never both take the
 * last slot (Temporal's `condition()` wakes every waiter whose predicate
 * holds, which would over-admit). Plain promises only: deterministic.
 */
export class Slots {
  private inUse = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  }

  /** Resolves once a slot is held; call `release()` exactly once after. */
  async acquire(): Promise<void> {
    if (this.inUse < this.capacity) {
      this.inUse += 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.inUse -= 1;
  }

  /** Runs `task` holding a slot. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await task();
    } finally {
      this.release();
    }
  }
}
