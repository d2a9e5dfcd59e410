/**
 * Part 2, faults: each scenario makes one upstream sick — openai/org-b, one
 * quarter of the OpenAI pool's weight — for `faultMs` in the middle of an
 * open-loop run, then heals it. Switchboard (gateway + worker, a fresh breaker
 * cluster per scenario so no scenario inherits another's breaker state) and
 * the peer (the same upstream set as an `x-portkey-config`) get the same
 * offered load from the same `openai` SDK client; the fake vendor's request
 * log says what reached the sick upstream.
 */
import type { FaultRuleInput } from '../../schemas/fake-vendor';
import { faultFigures, hitsFault, hitsPerSecond, type FaultFigures } from './fault-metrics';
import { callOnce, openaiClient, runOpenLoop, type Target } from './sdk-load';
import type { VendorAdmin } from './vendor-admin';

export const SICK_ORGANISATION = 'openai/org-b';
/** org-b's weight in the OpenAI pool (org-a 2, org-b 1, org-c 1) in both gateways' configs. */
const SICK_SHARE = 1 / 4;

export interface FaultScenario {
  id: string;
  title: string;
  /** Streaming calls (the fault only shows in streams). */
  stream: boolean;
  fault: FaultRuleInput['fault'];
  /** False when the fault comes and goes, so a quiet spell is not an ejection. Default true. */
  ejectionMeasurable?: boolean;
}

export const SCENARIOS: FaultScenario[] = [
  { id: 'org-dead', title: 'one organisation dead (every request 503)', stream: false, fault: { kind: 'status', status: 503 } },
  {
    id: 'org-flapping',
    title: 'flapping organisation (503 for 3 s, healthy for 2 s, repeating)',
    stream: false,
    fault: { kind: 'flap', downMs: 3_000, upMs: 2_000, status: 503 },
    ejectionMeasurable: false,
  },
  { id: 'account-locked', title: 'account locked (401 account_deactivated)', stream: false, fault: { kind: 'account_locked', reason: 'deactivated' } },
  { id: 'rate-limit-storm', title: '429 storm (every request 429, retry-after 5 s)', stream: false, fault: { kind: 'rate_limit', retryAfterSeconds: 5 } },
  {
    id: 'slow-first-token',
    title: 'slow first token (8 s; both gateways give up after 3 s)',
    stream: true,
    fault: { kind: 'slow_first_token', ttftMs: 8_000 },
  },
  { id: 'stream-cut', title: 'stream cut after 3 tokens', stream: true, fault: { kind: 'stream_cut', afterChunks: 3 } },
  { id: 'silent-upstream', title: 'silent upstream (accepts the request, never answers)', stream: false, fault: { kind: 'hang' } },
  { id: 'stream-stall', title: 'stream stalls after 3 tokens', stream: true, fault: { kind: 'stream_stall', afterChunks: 3 } },
  { id: 'malformed-chunk', title: 'malformed chunk after 2 tokens', stream: true, fault: { kind: 'malformed_chunk', afterChunks: 2 } },
];

export interface MeasuredFaultRun extends FaultFigures {
  peer: string;
  measured: true;
  skippedBeats: number;
  /** Requests per second that hit the fault, from the start of the run. */
  hitsPerSecond: number[];
  /** When each request hitting the fault arrived, in ms from the fault's start (the time-to-eject rule's input). */
  hitTimesMs: number[];
}

/** A gateway that could not serve the scenario's kind of call at all, even healthy (its warm-up failed): n/a, with why. */
export interface UnmeasuredFaultRun {
  peer: string;
  measured: false;
  reason: string;
}

export type FaultRun = MeasuredFaultRun | UnmeasuredFaultRun;

export interface FaultScenarioResult {
  scenario: FaultScenario;
  runs: FaultRun[];
}

export interface FaultTiming {
  ratePerSecond: number;
  beforeMs: number;
  faultMs: number;
  afterMs: number;
  maxInFlight: number;
}

/** What a gateway under test must provide for one scenario. */
export interface GatewayUnderTest {
  target: Target;
  stop(): Promise<void>;
}

async function runScenario(scenario: FaultScenario, gateway: GatewayUnderTest, admin: VendorAdmin, timing: FaultTiming): Promise<FaultRun> {
  const client = openaiClient(gateway.target, 60_000);
  // Warm-up: connections and JIT, and proof the gateway answers at all before the clock starts.
  for (let i = 0; i < 3; i++) {
    const warm = await callOnce(client, gateway.target.model, `warm-up ${scenario.id} ${i}`, scenario.stream);
    if (!warm.ok) return { peer: gateway.target.name, measured: false, reason: `fails with no fault injected: ${warm.error ?? 'unknown'}` };
  }
  await admin.clearFaults();
  await admin.resetLog();
  const window = { faultAt: 0, healAt: 0 };
  const run = await runOpenLoop(
    (i) => callOnce(client, gateway.target.model, `Fault ${scenario.id} ${gateway.target.name} #${i}: name a bakery.`, scenario.stream),
    {
      ratePerSecond: timing.ratePerSecond,
      durationMs: timing.beforeMs + timing.faultMs + timing.afterMs,
      maxInFlight: timing.maxInFlight,
      at: [
        {
          afterMs: timing.beforeMs,
          run: async () => {
            window.faultAt = Date.now();
            await admin.setFaults([{ organisation: SICK_ORGANISATION, ...(scenario.stream ? { stream: true } : {}), fault: scenario.fault }]);
          },
        },
        {
          afterMs: timing.beforeMs + timing.faultMs,
          run: async () => {
            await admin.clearFaults();
            window.healAt = Date.now();
          },
        },
      ],
    },
  );
  const all = await admin.requests({ since: run.startedAt });
  const sick = all.filter((r) => r.organisation === SICK_ORGANISATION);
  const seconds = Math.ceil((timing.beforeMs + timing.faultMs + timing.afterMs) / 1000);
  return {
    peer: gateway.target.name,
    measured: true,
    ...faultFigures(run.outcomes, sick, all.length, window, {
      stream: scenario.stream,
      expectedSickPerSecond: timing.ratePerSecond * SICK_SHARE,
      ejectionMeasurable: scenario.ejectionMeasurable ?? true,
    }),
    skippedBeats: run.skipped,
    hitsPerSecond: hitsPerSecond(sick, run.startedAt, seconds),
    hitTimesMs: sick.filter((r) => hitsFault(r)).map((r) => r.time - window.faultAt),
  };
}

/**
 * Every scenario on every gateway. `startGateways(scenario)` returns, in
 * order, starters for the gateways under test; the next one is started while
 * the current one runs, so start-up time is hidden behind the peer's run.
 */
export async function measureFaults(
  scenarios: FaultScenario[],
  startGateways: (scenario: FaultScenario) => Array<() => Promise<GatewayUnderTest>>,
  admin: VendorAdmin,
  timing: FaultTiming,
  log: (line: string) => void,
): Promise<FaultScenarioResult[]> {
  const results: FaultScenarioResult[] = [];
  for (const scenario of scenarios) {
    const runs: FaultRun[] = [];
    const starters = startGateways(scenario);
    let next = starters[0]?.();
    for (let i = 0; i < starters.length; i++) {
      const gateway = await next!;
      next = starters[i + 1]?.();
      // A starter that fails while this run goes on is reported when it is awaited, not as an unhandled rejection.
      next?.catch(() => undefined);
      try {
        const run = await runScenario(scenario, gateway, admin, timing);
        runs.push(run);
        if (!run.measured) log(`faults ${scenario.id.padEnd(17)} ${run.peer.padEnd(11)} n/a: ${run.reason}`);
        else
          log(
            `faults ${scenario.id.padEnd(17)} ${run.peer.padEnd(11)} errors ${run.clientErrors}/${run.calls} (truncated ${run.silentlyTruncated})  hit fault ${run.requestsHittingFault}  eject ${run.timeToEjectMs ?? 'never'} ms  recover ${run.timeToRecoverMs ?? '-'} ms  p95 ${run.p95Ms} ms`,
          );
      } finally {
        await gateway.stop();
      }
    }
    results.push({ scenario, runs });
  }
  return results;
}
