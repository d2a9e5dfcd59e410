/**
 * What the two vendor adapters' streamed calls share: the watchdog (first
 * token, stalls, the grace after the finish reason), time to first token, the
 * response's status and rate-limit headers, and how the read ends — an error
 * after the finish reason and its grace is a complete answer whose terminator
 * is missing; any other error is the watchdog's, or the stream's own.
 * Each adapter reads its own events; this is the frame around the loop.
 */
import { VendorProtocolError } from './errors';
import { readRateLimit } from './rate-limit-headers';
import { linkedAbortController, StreamWatchdog } from './stream-watchdog';
import type { VendorCallRequest, VendorCallResult } from './types';

/** How long a stream may stay open after its finish reason before it is ended as complete. */
const FINISH_GRACE_MS = 250;

export class StreamSession {
  private readonly controller: AbortController;
  private readonly watchdog: StreamWatchdog;
  private readonly startedAt = performance.now();
  private ttftMs: number | undefined;
  private status = 200;
  private rateLimit: VendorCallResult['rateLimit'];

  constructor(
    private readonly protocol: 'openai' | 'anthropic',
    request: VendorCallRequest,
  ) {
    this.controller = linkedAbortController(request.signal);
    this.watchdog = new StreamWatchdog(this.controller, request.firstTokenTimeoutMs, request.stallTimeoutMs);
  }

  /** Aborts the request when the caller goes away or the watchdog fires. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The response's headers arrived. */
  opened(response: Response): void {
    this.status = response.status;
    this.rateLimit = readRateLimit(this.protocol, response.headers, Date.now());
  }

  /** Any chunk or event: the stall clock starts again. */
  chunk(): void {
    this.watchdog.touch();
  }

  /** A text or tool delta: the first one sets the time to first token. */
  token(): void {
    if (this.ttftMs === undefined) this.ttftMs = performance.now() - this.startedAt;
    this.watchdog.firstToken();
  }

  /** The finish reason arrived: the rest (usage, the terminator) gets a short grace, no more. */
  finishing(): void {
    this.watchdog.finished(FINISH_GRACE_MS);
  }

  /**
   * Runs the adapter's read loop. `finished()` says whether the finish reason
   * had arrived when the loop failed: then the answer stands. The request is
   * aborted afterwards either way, so no socket outlives the call.
   */
  async read(loop: () => Promise<void>, finished: () => boolean): Promise<void> {
    try {
      await loop();
    } catch (error) {
      if (!(this.watchdog.graceEnded && finished())) throw this.watchdog.failure ?? asStreamError(error);
    } finally {
      this.watchdog.stop();
      this.controller.abort();
    }
  }

  /** The fields of the result that come from the exchange rather than the content. */
  exchange(): Pick<VendorCallResult, 'status' | 'rateLimit' | 'ttftMs'> {
    return { status: this.status, rateLimit: this.rateLimit, ...(this.ttftMs !== undefined ? { ttftMs: this.ttftMs } : {}) };
  }
}

/** The SDKs throw a SyntaxError for a chunk that is not JSON: vendor garbage, never the caller's. */
function asStreamError(error: unknown): unknown {
  if (error instanceof SyntaxError) return new VendorProtocolError('malformed_response', `malformed stream chunk: ${error.message}`, { cause: error });
  return error;
}
