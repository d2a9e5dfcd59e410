/** Callers that keep calling until told to stop: steady traffic for outage tests. */
export interface Traffic<T> {
  /** Every outcome so far, in completion order. */
  outcomes: T[];
  /** Lets each caller finish its call in flight, then resolves. */
  stop(): Promise<void>;
}

/** `callers` loops, each awaiting `call(caller, i)` (i counts every call across callers) until stopped; a throw becomes `onError(error)`. */
export function keepCalling<T>(callers: number, call: (caller: number, i: number) => Promise<T>, onError: (error: unknown) => T): Traffic<T> {
  const outcomes: T[] = [];
  let running = true;
  let sent = 0;
  const loops = Array.from({ length: callers }, async (_, caller) => {
    while (running) {
      const i = sent++;
      outcomes.push(await call(caller, i).catch(onError));
    }
  });
  return {
    outcomes,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}
