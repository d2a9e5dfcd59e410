import type { FaultRule, FaultRuleInput } from '../../schemas/fake-vendor';
import { FaultRule as FaultRuleSchema } from '../../schemas/fake-vendor';
import { isFlapDown, planFaults, type FaultContext, type StoredRule } from '../../services/fake-vendor/fault-selection';
import { createRandom } from '../../services/fake-vendor/seeded-random';
import { faultPosition, frameDueTimes } from '../../services/fake-vendor/stream-delivery';
import type { SseFrame } from '../../services/fake-vendor/sse';

const context = (overrides: Partial<FaultContext> = {}): FaultContext => ({
  organisation: 'o',
  model: 'm',
  stream: false,
  structured: false,
  promptTextLower: () => 'user: make the background transparent',
  nowMs: 0,
  ...overrides,
});
const stored = (input: Omit<FaultRuleInput, 'organisation'> & { organisation?: string }, id = 'r', createdAtMs = 0): StoredRule => ({
  id,
  rule: FaultRuleSchema.parse({ organisation: 'o', ...input }) as FaultRule,
  createdAtMs,
  firedCount: 0,
});

describe('planFaults', () => {
  it('lets the first answer-replacing fault decide, while latency adds up', () => {
    const plan = planFaults(
      [
        stored({ fault: { kind: 'latency', ms: 10 } }, 'a'),
        stored({ fault: { kind: 'status', status: 500 } }, 'b'),
        stored({ fault: { kind: 'hang' } }, 'c'),
        stored({ fault: { kind: 'latency', ms: 5 } }, 'd'),
      ],
      context(),
      createRandom(1),
    );
    expect(plan).toMatchObject({ terminal: { kind: 'status', status: 500 }, latencyMs: 15, decisive: 'status', firedRuleIds: ['a', 'b', 'd'] });
  });

  it('matches organisation, model, stream flag, prompt text and structured output', () => {
    const rules = [
      stored({ organisation: 'other', fault: { kind: 'hang' } }, 'org'),
      stored({ model: 'x', fault: { kind: 'hang' } }, 'model'),
      stored({ stream: true, fault: { kind: 'hang' } }, 'stream'),
      stored({ promptContains: 'OPAQUE', fault: { kind: 'hang' } }, 'text'),
      stored({ fault: { kind: 'stream_cut' } }, 'cut'),
      stored({ fault: { kind: 'invalid_json' } }, 'json'),
    ];
    expect(planFaults(rules, context(), createRandom(1)).firedRuleIds).toEqual([]);
    expect(planFaults(rules, context({ stream: true, structured: true }), createRandom(1)).firedRuleIds).toEqual(['stream']);
    expect(planFaults([stored({ promptContains: 'TRANSPARENT', fault: { kind: 'content_policy_violation' } })], context(), createRandom(1)).decisive).toBe(
      'content_policy_violation',
    );
    const streamOnly = planFaults(rules.slice(4), context({ stream: true, structured: true }), createRandom(1));
    expect(streamOnly).toMatchObject({ stream: { kind: 'stream_cut', afterChunks: 3 }, invalidJson: true, firedKinds: ['stream_cut', 'invalid_json'] });
  });

  it('draws probabilities from the seeded RNG, so runs repeat', () => {
    const run = () => {
      const random = createRandom(99);
      const rule = stored({ probability: 0.25, fault: { kind: 'status', status: 503 } });
      return Array.from({ length: 400 }, () => planFaults([rule], context(), random).terminal !== null);
    };
    const first = run();
    expect(run()).toEqual(first);
    const rate = first.filter(Boolean).length / first.length;
    expect(rate).toBeGreaterThan(0.18);
    expect(rate).toBeLessThan(0.32);
  });

  it('retires rules whose times are spent or whose duration has passed', () => {
    const spent = { ...stored({ times: 2, fault: { kind: 'hang' } }), firedCount: 2 };
    const expired = stored({ durationMs: 100, fault: { kind: 'hang' } }, 'e', 0);
    expect(planFaults([spent, expired], context({ nowMs: 100 }), createRandom(1)).firedRuleIds).toEqual([]);
    expect(planFaults([expired], context({ nowMs: 99 }), createRandom(1)).firedRuleIds).toEqual(['e']);
  });

  it('flaps down then up from the rule creation time', () => {
    const flap = { kind: 'flap' as const, downMs: 100, upMs: 50, status: 503 };
    expect([0, 99, 100, 149, 150, 249, 250].map((t) => isFlapDown(flap, 0, t))).toEqual([true, true, false, false, true, true, false]);
    expect(planFaults([stored({ fault: flap }, 'f', 0)], context({ nowMs: 120 }), createRandom(1)).terminal).toBeNull();
    expect(planFaults([stored({ fault: flap }, 'f', 0)], context({ nowMs: 10 }), createRandom(1))).toMatchObject({
      terminal: { kind: 'status', status: 503 },
      decisive: 'flap',
    });
  });
});

describe('stream fault positions and pacing', () => {
  const frames: SseFrame[] = [
    { phase: 'preamble', text: 'p' },
    { phase: 'lead', text: 'l' },
    { phase: 'token', text: 't0' },
    { phase: 'token', text: 't1' },
    { phase: 'token', text: 't2' },
    { phase: 'trailer', text: 'f' },
    { phase: 'terminator', text: 'd' },
  ];

  it('strikes after N token frames, or before the trailer when N is past the end', () => {
    expect(faultPosition(frames, 0)).toBe(2);
    expect(faultPosition(frames, 2)).toBe(4);
    expect(faultPosition(frames, 3)).toBe(5);
    expect(faultPosition(frames, 99)).toBe(5);
  });

  it('sends the preamble at once, the first token at the TTFT, then one token per interval', () => {
    expect(frameDueTimes(frames, 100, 10)).toEqual([0, 100, 100, 200, 300, 300, 300]);
    expect(frameDueTimes(frames, 0, 0)).toEqual([0, 0, 0, 0, 0, 0, 0]);
  });
});
