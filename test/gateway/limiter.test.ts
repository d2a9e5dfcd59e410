/** The pure admission decision: buckets, in-flight leases, abuse tightening. */
import { decideAdmission, releaseLease, renewLeases, settleTokens, type LimiterState } from '../../lib/admission/limiter';

const ask = (now: number, leaseId = `l-${now}`, tokens = 10) => ({ now, leaseId, leaseUntil: now + 60_000, tokens, abuseStrikes: 3 });

describe('decideAdmission', () => {
  it('admits a burst of requestsPerMinute, then refuses with the time until the next refill', () => {
    let state: LimiterState | undefined;
    for (let i = 0; i < 3; i++) {
      const d = decideAdmission(state, { requestsPerMinute: 3 }, ask(1_000));
      expect(d.admitted).toBe(true);
      state = d.state;
    }
    const refused = decideAdmission(state, { requestsPerMinute: 3 }, ask(1_000));
    expect(refused).toEqual(expect.objectContaining({ admitted: false, reason: 'requests_per_minute', retryAfterMs: 20_000 }));
    expect(decideAdmission(refused.state, { requestsPerMinute: 3 }, ask(21_000)).admitted).toBe(true);
  });

  it('holds in-flight requests to `concurrent` until a lease is released or expires', () => {
    const first = decideAdmission(undefined, { concurrent: 1 }, ask(0, 'a'));
    expect(first.admitted).toBe(true);
    const second = decideAdmission(first.state, { concurrent: 1 }, ask(10, 'b'));
    expect(second).toEqual(expect.objectContaining({ admitted: false, reason: 'concurrent' }));
    expect(decideAdmission(releaseLease(first.state, 'a'), { concurrent: 1 }, ask(10, 'b')).admitted).toBe(true);
    expect(decideAdmission(first.state, { concurrent: 1 }, ask(60_001, 'c')).admitted).toBe(true);
  });

  it('charges tokens and refuses a request larger than the whole budget', () => {
    const first = decideAdmission(undefined, { tokensPerMinute: 100 }, ask(0, 'a', 80));
    expect(first.admitted).toBe(true);
    expect(decideAdmission(first.state, { tokensPerMinute: 100 }, ask(0, 'b', 30))).toEqual(
      expect.objectContaining({ admitted: false, reason: 'tokens_per_minute' }),
    );
    expect(decideAdmission(undefined, { tokensPerMinute: 100 }, ask(0, 'c', 101))).toEqual(
      expect.objectContaining({ admitted: false, reason: 'request_too_large' }),
    );
  });

  it('halves the limits of a subject that keeps getting refused, and relaxes as the strikes decay', () => {
    let state: LimiterState | undefined;
    const limits = { requestsPerMinute: 4 };
    for (let i = 0; i < 14; i++) state = decideAdmission(state, limits, ask(0)).state; // 4 admitted, 10 strikes
    // After 30 s (strikes decayed to ~7, still ≥ 3) the limit is 2/min: one token has refilled, not two.
    const tightened = decideAdmission(state, limits, ask(30_000));
    expect(tightened.admitted).toBe(true);
    const after = decideAdmission(tightened.state, limits, ask(30_000));
    expect(after).toEqual(expect.objectContaining({ admitted: false, tightened: true }));
    // Ten minutes of calm: strikes decayed, full limits again.
    let calm = after.state;
    for (let i = 0; i < 4; i++) {
      const d = decideAdmission(calm, limits, ask(630_000));
      expect(d.admitted).toBe(true);
      calm = d.state;
    }
  });
});

describe('settleTokens (the estimate corrected with the real usage)', () => {
  const limits = { tokensPerMinute: 1_000 };
  const settle = (state: LimiterState, estimated: number, actual: number, now = 0) => settleTokens(state, limits, { now, estimated, actual, abuseStrikes: 3 });

  it('gives back an over-estimate, so the next request fits', () => {
    const first = decideAdmission(undefined, limits, ask(0, 'a', 800));
    expect(decideAdmission(first.state, limits, ask(0, 'b', 800)).admitted).toBe(false);
    const settled = settle(first.state, 800, 50);
    expect(settled.tokens?.level).toBe(950);
    expect(decideAdmission(settled, limits, ask(0, 'b', 800)).admitted).toBe(true);
  });

  it('charges an under-estimate into debt: the next request waits for the refill', () => {
    const first = decideAdmission(undefined, limits, ask(0, 'a', 100));
    const settled = settle(first.state, 100, 1_400);
    expect(settled.tokens?.level).toBe(-400);
    const refused = decideAdmission(settled, limits, ask(0, 'b', 100));
    expect(refused).toEqual(expect.objectContaining({ admitted: false, reason: 'tokens_per_minute', retryAfterMs: 30_000 }));
    expect(decideAdmission(settled, limits, ask(30_000, 'b', 100)).admitted).toBe(true);
  });

  it('never refills above the budget, and leaves a subject without a tokens limit alone', () => {
    const first = decideAdmission(undefined, limits, ask(0, 'a', 10));
    expect(settle(first.state, 900, 0).tokens?.level).toBe(1_000);
    const untouched = decideAdmission(undefined, { requestsPerMinute: 5 }, ask(0)).state;
    expect(settleTokens(untouched, { requestsPerMinute: 5 }, { now: 0, estimated: 100, actual: 5, abuseStrikes: 3 })).toBe(untouched);
  });
});

describe('queued requests', () => {
  it('are refused without strikes: waiting in line is not hammering', () => {
    const full = decideAdmission(undefined, { concurrent: 1 }, ask(0, 'a')).state;
    let state = full;
    for (let i = 0; i < 10; i++) {
      const d = decideAdmission(state, { concurrent: 1 }, { ...ask(0, `q${i}`), strike: false });
      expect(d.admitted).toBe(false);
      state = d.state;
    }
    expect(state.strikes).toBe(0);
    expect(decideAdmission(state, { concurrent: 1 }, ask(0, 'x')).state.strikes).toBe(1);
  });
});

describe('strikes are for hammering only', () => {
  const limits = { requestsPerMinute: 1 };
  it('does not strike the first refusal, nor a retry that waited its retry-after', () => {
    const admitted = decideAdmission(undefined, limits, ask(0));
    const first = decideAdmission(admitted.state, limits, ask(0));
    expect(first).toEqual(expect.objectContaining({ admitted: false, retryAfterMs: 60_000 }));
    expect(first.state.strikes).toBe(0);
    // Back exactly when told (the bucket may still be short for another reason): no strike.
    const onTime = decideAdmission({ ...first.state, requests: { level: 0, at: 60_000 } }, limits, ask(60_000));
    expect(onTime.admitted).toBe(false);
    expect(onTime.state.strikes).toBe(0);
  });

  it('strikes a request that comes back before its retry-after', () => {
    const admitted = decideAdmission(undefined, limits, ask(0));
    const first = decideAdmission(admitted.state, limits, ask(0));
    const early = decideAdmission(first.state, limits, ask(1_000));
    expect(early.admitted).toBe(false);
    expect(early.state.strikes).toBe(1);
  });

  it('never strikes a queued request waiting its turn', () => {
    let state = decideAdmission(undefined, limits, ask(0)).state;
    for (let i = 0; i < 5; i++) state = decideAdmission(state, limits, { ...ask(i), strike: false }).state;
    expect(state.strikes).toBe(0);
  });
});

describe('renewLeases', () => {
  it('keeps a live request in flight past its first TTL, and a lapsed one frees its slot', () => {
    const limits = { concurrent: 1 };
    const held = decideAdmission(undefined, limits, { ...ask(0, 'a'), leaseUntil: 5_000 });
    const renewed = renewLeases(held.state, ['a'], 9_000);
    expect(decideAdmission(renewed, limits, ask(6_000, 'b'))).toEqual(expect.objectContaining({ admitted: false, reason: 'concurrent', retryAfterMs: 1_000 }));
    expect(decideAdmission(held.state, limits, ask(6_000, 'b')).admitted).toBe(true);
  });
});
