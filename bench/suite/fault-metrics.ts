/**
 * Pure arithmetic over what the clients saw and what the fake vendor logged
 * during one fault scenario. The same rules judge Switchboard and the peer,
 * so neither is measured by its own account of itself.
 */
import type { VendorRequestRecord } from '../../schemas/fake-vendor';
import { percentile, round1, type CallOutcome } from './sdk-load';

/**
 * Requests to a sick upstream closer together than this are regular traffic;
 * farther apart they may be a breaker's probes (Switchboard's base cooldown is
 * 5 s with ±20% jitter, so probes are at least 4 s apart).
 */
export const PROBE_SPACING_MS = 4_000;
/** Regular requests the rest of the fault would have brought at the upstream's share, below which an ejection cannot be told from chance. */
export const MIN_EXPECTED_REQUESTS = 6;

export interface FaultWindow {
  /** Epoch ms the fault was set and cleared. */
  faultAt: number;
  healAt: number;
}

export interface FaultFigures {
  calls: number;
  clientErrors: number;
  clientErrorRate: number;
  /** Streams that ended without a finish reason and without an error. */
  silentlyTruncated: number;
  /** p95 of successful calls: latency, or time to first token for streams. */
  p95Ms: number | null;
  /** Requests the sick upstream answered with the fault (vendor log). */
  requestsHittingFault: number;
  /** Vendor requests (every organisation) per client call over the run. */
  vendorRequestsPerCall: number;
  /** From the first request hitting the fault to the last one that was not a lone probe; null: never ejected (or not measurable). */
  timeToEjectMs: number | null;
  ejectionMeasurable: boolean;
  /** From the heal to the sick upstream's first successful answer; null: none before the run ended. */
  timeToRecoverMs: number | null;
  firstErrors: string[];
}

export function hitsFault(r: VendorRequestRecord): boolean {
  return r.fault !== null;
}

/**
 * Ejected after the last "regular" request hitting the fault: the last one
 * that came less than PROBE_SPACING_MS after the one before (after it, only
 * lone requests, if any). Measured from the first request hitting the fault.
 * Null (never) when too little of the fault was left after it to tell an
 * ejection from a quiet spell: fewer than MIN_EXPECTED_REQUESTS at
 * `expectedPerSecond`, the upstream's share of the offered load.
 */
export function timeToEjectMs(hitTimes: number[], window: FaultWindow, expectedPerSecond: number): number | null {
  const times = [...hitTimes].sort((a, b) => a - b);
  if (times.length === 0) return null;
  let lastRegular = times[0]!;
  for (let i = 1; i < times.length; i++) if (times[i]! - times[i - 1]! < PROBE_SPACING_MS) lastRegular = times[i]!;
  if ((expectedPerSecond * (window.healAt - lastRegular)) / 1000 < MIN_EXPECTED_REQUESTS) return null;
  return lastRegular - times[0]!;
}

export function timeToRecoverMs(sick: VendorRequestRecord[], window: FaultWindow): number | null {
  const firstOk = sick.find((r) => r.time >= window.healAt && r.status === 200 && !hitsFault(r));
  return firstOk ? firstOk.time - window.healAt : null;
}

/**
 * `expectedSickPerSecond`: the sick upstream's share of the offered load
 * (rate × its weight share); `ejectionMeasurable` false for faults that come
 * and go (a flap), where a quiet spell is the fault's own up phase.
 */
export function faultFigures(
  outcomes: CallOutcome[],
  sick: VendorRequestRecord[],
  allVendorRequests: number,
  window: FaultWindow,
  o: { stream: boolean; expectedSickPerSecond: number; ejectionMeasurable: boolean },
): FaultFigures {
  const { stream } = o;
  const hits = sick.filter((r) => hitsFault(r) && r.time >= window.faultAt && r.time <= window.healAt + 1_000);
  const ok = outcomes
    .filter((o) => o.ok)
    .map((o) => (stream ? o.ttftMs : o.latencyMs))
    .filter((v): v is number => v !== undefined)
    .sort((a, b) => a - b);
  const errors = outcomes.filter((o) => !o.ok);
  return {
    calls: outcomes.length,
    clientErrors: errors.length,
    clientErrorRate: outcomes.length === 0 ? 0 : Math.round((errors.length / outcomes.length) * 10_000) / 10_000,
    silentlyTruncated: outcomes.filter((o) => o.silentlyTruncated).length,
    p95Ms: round1(percentile(ok, 95)),
    requestsHittingFault: hits.length,
    vendorRequestsPerCall: outcomes.length === 0 ? 0 : Math.round((allVendorRequests / outcomes.length) * 100) / 100,
    timeToEjectMs: o.ejectionMeasurable
      ? timeToEjectMs(
          hits.map((r) => r.time),
          window,
          o.expectedSickPerSecond,
        )
      : null,
    ejectionMeasurable: o.ejectionMeasurable,
    timeToRecoverMs: timeToRecoverMs(sick, window),
    firstErrors: [...new Set(errors.map((e) => e.error ?? 'unknown'))].slice(0, 3),
  };
}

/** Requests per second that hit the fault, from `startedAt`, for the timeline chart. */
export function hitsPerSecond(sick: VendorRequestRecord[], startedAt: number, seconds: number): number[] {
  const series = Array.from({ length: seconds }, () => 0);
  for (const r of sick) {
    const second = Math.floor((r.time - startedAt) / 1000);
    if (hitsFault(r) && second >= 0 && second < seconds) series[second]! += 1;
  }
  return series;
}
