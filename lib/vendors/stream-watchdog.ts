import { VendorProtocolError } from './errors';

/**
 * Aborts a streamed vendor request when the first token is late or the stream
 * stalls. `touch()` on every chunk; `firstToken()` on the first content delta.
 */
export class StreamWatchdog {
  private timer: NodeJS.Timeout | undefined;
  private sawToken = false;
  /** Set when the watchdog aborted the request; the adapter throws it instead of the abort error. */
  failure: VendorProtocolError | undefined;
  /** Set when the grace after the finish reason ran out: the answer is complete, only its terminator is missing. */
  graceEnded = false;
  private finishing = false;

  constructor(
    private readonly controller: AbortController,
    private readonly firstTokenTimeoutMs: number | undefined,
    private readonly stallTimeoutMs: number | undefined,
  ) {
    this.arm(firstTokenTimeoutMs, () => new VendorProtocolError('first_token_timeout', `no token within ${firstTokenTimeoutMs} ms`));
  }

  touch(): void {
    if (this.sawToken && !this.finishing)
      this.arm(this.stallTimeoutMs, () => new VendorProtocolError('stream_stalled', `no chunk for ${this.stallTimeoutMs} ms`));
  }

  firstToken(): void {
    if (this.sawToken) return;
    this.sawToken = true;
    this.touch();
  }

  /**
   * The finish reason arrived: the usage chunk and the terminator get `graceMs`
   * more, then the request is ended as complete (a vendor that forgets
   * `[DONE]` and holds the connection open must not hold the answer).
   */
  finished(graceMs: number): void {
    if (this.finishing) return;
    this.finishing = true;
    this.stop();
    this.timer = setTimeout(() => {
      this.graceEnded = true;
      this.controller.abort();
    }, graceMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(ms: number | undefined, failure: () => VendorProtocolError): void {
    this.stop();
    if (!ms) return;
    this.timer = setTimeout(() => {
      this.failure = failure();
      this.controller.abort(this.failure);
    }, ms);
    this.timer.unref();
  }
}

/** Links an outer signal (activity cancellation) to a controller of our own. */
export function linkedAbortController(outer: AbortSignal | undefined): AbortController {
  const controller = new AbortController();
  if (outer) {
    if (outer.aborted) controller.abort(outer.reason);
    else outer.addEventListener('abort', () => controller.abort(outer.reason), { once: true });
  }
  return controller;
}
