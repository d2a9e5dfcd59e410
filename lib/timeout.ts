/** `promise`, or the error `late()` makes once `ms` have passed without it; the timer never outlives the race. */
export function withTimeout<T>(promise: Promise<T>, ms: number, late: () => Error = () => new Error(`no answer within ${ms} ms`)): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(late()), ms)));
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}
