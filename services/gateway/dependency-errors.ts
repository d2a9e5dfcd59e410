/**
 * Failures of our own dependencies as the caller should see them: Temporal or
 * NATS not answering is a 503 naming it, with a retry-after — never a bare
 * 500 "internal error" (the caller did nothing wrong; a retry soon may work).
 */
import { isGrpcServiceError } from '@temporalio/client';
import { isNatsUnavailableError } from './admission-store';
import { dependencyUnavailable, type GatewayError } from './http-errors';

/** gRPC codes of a server that is down, unreachable or too slow: UNAVAILABLE, DEADLINE_EXCEEDED. */
const TEMPORAL_DOWN_CODES: ReadonlySet<number> = new Set([14, 4]);
/** nats.js error codes of a connection that cannot carry a request now. */
const NATS_DOWN_CODES: ReadonlySet<string> = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_DRAINING',
  'CONNECTION_REFUSED',
  'CONNECTION_TIMEOUT',
  'DISCONNECT',
  'TIMEOUT',
  '503',
  '408',
]);

/** The error and its causes, outermost first (bounded: a cause chain may loop). */
function* causes(error: unknown): Generator<unknown> {
  let current = error;
  for (let depth = 0; current && depth < 8; depth++) {
    yield current;
    current = (current as { cause?: unknown }).cause;
  }
}

export function isTemporalUnavailable(error: unknown): boolean {
  for (const e of causes(error)) if (isGrpcServiceError(e) && TEMPORAL_DOWN_CODES.has(e.code)) return true;
  return false;
}

function isNatsUnavailable(error: unknown): boolean {
  for (const e of causes(error)) {
    if (isNatsUnavailableError(e)) return true;
    const code = (e as { code?: unknown }).code;
    if (e instanceof Error && e.name === 'NatsError' && typeof code === 'string' && NATS_DOWN_CODES.has(code)) return true;
  }
  return false;
}

/** The 503 while Temporal does not answer. */
export const temporalUnavailable = (): GatewayError => dependencyUnavailable('Temporal', 'the workflow service did not answer', 2);

/** The 503 for an error that means Temporal or NATS is away; undefined for anything else. */
export function dependencyErrorOf(error: unknown): GatewayError | undefined {
  if (isTemporalUnavailable(error)) return temporalUnavailable();
  if (isNatsUnavailable(error)) return dependencyUnavailable('NATS', 'the message bus did not answer', 2);
  return undefined;
}
