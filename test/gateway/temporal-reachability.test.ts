/** The shed path's view of Temporal: one check at a time, at most once per maxAgeMs, the last answer at once. */
import { createTemporalReachability } from '../../services/gateway/temporal-reachability';

const never = () => new Promise<never>(() => undefined);
const after = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('temporal reachability', () => {
  it('waits for the first answer: answered → reachable, an error or no answer within timeoutMs → not', async () => {
    expect(await createTemporalReachability(() => Promise.resolve({}), { timeoutMs: 50, maxAgeMs: 1_000 }).isReachable()).toBe(true);
    expect(await createTemporalReachability(() => Promise.reject(new Error('UNAVAILABLE')), { timeoutMs: 50, maxAgeMs: 1_000 }).isReachable()).toBe(false);
    expect(await createTemporalReachability(never, { timeoutMs: 50, maxAgeMs: 1_000 }).isReachable()).toBe(false);
  });

  it('checks at most once per maxAgeMs, and answers with the last result while a new check runs', async () => {
    let calls = 0;
    let up = true;
    const reach = createTemporalReachability(
      async () => {
        calls++;
        await after(30);
        if (!up) throw new Error('UNAVAILABLE');
      },
      { timeoutMs: 1_000, maxAgeMs: 100 },
    );
    expect(await Promise.all([reach.isReachable(), reach.isReachable(), reach.isReachable()])).toEqual([true, true, true]);
    expect(calls).toBe(1);
    up = false;
    expect(await reach.isReachable()).toBe(true);
    expect(calls).toBe(1);
    await after(120);
    // Stale: a new check starts, and this caller gets the last answer without waiting for it.
    expect(await reach.isReachable()).toBe(true);
    expect(calls).toBe(2);
    await after(60);
    expect(await reach.isReachable()).toBe(false);
    expect(calls).toBe(2);
  });

  it('says when the check behind its last answer began, so an answer seen since can outweigh a slow check', async () => {
    const reach = createTemporalReachability(never, { timeoutMs: 50, maxAgeMs: 1_000 });
    expect(reach.lastAnswerFrom()).toBeUndefined();
    const before = Date.now();
    expect(await reach.isReachable()).toBe(false);
    const from = reach.lastAnswerFrom()!;
    // It began when asked, not when it timed out 50 ms later.
    expect(from).toBeGreaterThanOrEqual(before);
    expect(from).toBeLessThan(before + 50);
  });
});
