/** The stream watchdog's grace after the finish reason: the answer is ended as complete, not as a stall. */
import { StreamWatchdog } from '../../lib/vendors/stream-watchdog';

function aborted(controller: AbortController): Promise<void> {
  return new Promise((resolve) => controller.signal.addEventListener('abort', () => resolve(), { once: true }));
}

describe('StreamWatchdog', () => {
  it('ends a finished stream after the grace, without a failure, even when chunks keep coming', async () => {
    const controller = new AbortController();
    const watchdog = new StreamWatchdog(controller, undefined, 20);
    watchdog.firstToken();
    watchdog.finished(60);
    watchdog.touch(); // a late usage chunk must not re-arm the (shorter) stall timer
    await aborted(controller);
    expect(watchdog.graceEnded).toBe(true);
    expect(watchdog.failure).toBeUndefined();
  });

  it('still reports a stall before the finish reason', async () => {
    const controller = new AbortController();
    const watchdog = new StreamWatchdog(controller, undefined, 20);
    watchdog.firstToken();
    await aborted(controller);
    expect(watchdog.graceEnded).toBe(false);
    expect(watchdog.failure?.errorType).toBe('stream_stalled');
  });
});
