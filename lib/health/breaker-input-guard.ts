/**
 * The breakerSupervisor's check of a signal, without zod (workflow code pays
 * for schema construction on every run). Senders build signals from the typed
 * `BreakerInput` and validate them with the zod schema (breaker-signals.ts);
 * this guard only keeps a malformed payload from wedging the one writer.
 */
import type { BreakerInput } from '../../schemas/health';
import { TRIP_KINDS } from '../../schemas/workflow-safe';

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const tripKinds: ReadonlySet<string> = new Set(TRIP_KINDS);
const operatorActions: ReadonlySet<unknown> = new Set(['open', 'close', 'auto']);

function isTripSignal(value: unknown): boolean {
  return (
    isRecord(value) &&
    typeof value.upstream === 'string' &&
    typeof value.kind === 'string' &&
    tripKinds.has(value.kind) &&
    typeof value.detail === 'string' &&
    isRecord(value.evidence) &&
    typeof value.evidenceAt === 'number' &&
    typeof value.at === 'number'
  );
}

/** The input when its shape is one the state machine understands, else undefined. */
export function asBreakerInput(raw: unknown): BreakerInput | undefined {
  if (!isRecord(raw)) return undefined;
  switch (raw.kind) {
    case 'trip':
      return isTripSignal(raw.signal) ? (raw as BreakerInput) : undefined;
    case 'cooldown_elapsed':
      return raw as BreakerInput;
    case 'probe_result':
      return typeof raw.ok === 'boolean' && (raw.error === undefined || isRecord(raw.error)) && (raw.revision === undefined || typeof raw.revision === 'number')
        ? (raw as BreakerInput)
        : undefined;
    case 'probe_expired':
      return typeof raw.revision === 'number' ? (raw as BreakerInput) : undefined;
    case 'operator':
      return operatorActions.has(raw.action) && typeof raw.reason === 'string' ? (raw as BreakerInput) : undefined;
    default:
      return undefined;
  }
}
