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

  constructor(
    private readonly controller: AbortController,
    private readonly firstTokenTimeoutMs: number | undefined,
    private readonly stallTimeoutMs: number | undefined,
  ) {
    this.arm(firstTokenTimeoutMs, () => new VendorProtocolError('first_token_timeout', `no token within ${firstTokenTimeoutMs} ms`));
  }

  touch(): void {
    if (this.sawToken) this.arm(this.stallTimeoutMs, () => new VendorProtocolError('stream_stalled', `no chunk for ${this.stallTimeoutMs} ms`));
  }

  firstToken(): void {
    if (this.sawToken) return;
    this.sawToken = true;
    this.touch();
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
