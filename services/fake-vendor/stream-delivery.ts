/**
 * Writes a planned SSE answer to the wire: preamble at once, the first token
 * after the time to first token, later tokens at the configured pace, and the
 * stream faults (cut, stall, malformed chunk, in-stream error, missing
 * terminator) at the token they target. Frames due at the same moment go out
 * in one write.
 */
import type { ServerResponse } from 'node:http';
import type { StreamFault } from './fault-selection';
import type { Scheduler } from './scheduler';
import type { SseFrame } from './sse';

export interface StreamDeliveryOptions {
  frames: readonly SseFrame[];
  ttftMs: number;
  /** 0 sends every token at once. */
  tokensPerSecond: number;
  fault: StreamFault | null;
  /** The frame the `malformed_chunk` fault inserts. */
  malformedFrame: string;
  /** The frame `malformed_chunk` with `contentFree` inserts. */
  contentFreeMalformedFrame: string;
  /** The in-stream error frame for the `stream_error` fault. */
  errorFrame: (status: number) => string;
  scheduler: Scheduler;
  now: () => number;
}

/** The frame index before which a fault with `afterChunks` strikes. */
export function faultPosition(frames: readonly SseFrame[], afterChunks: number): number {
  let tokens = 0;
  for (let i = 0; i < frames.length; i++) {
    const frame = frames[i];
    if (frame === undefined) continue;
    if (frame.phase === 'trailer' || frame.phase === 'terminator') return i;
    if (frame.phase === 'token') {
      if (tokens === afterChunks) return i;
      tokens++;
    }
  }
  return frames.length;
}

/** When each frame is due, in ms after the headers. */
export function frameDueTimes(frames: readonly SseFrame[], ttftMs: number, tokensPerSecond: number): number[] {
  const intervalMs = tokensPerSecond > 0 ? 1000 / tokensPerSecond : 0;
  let token = -1;
  return frames.map((frame) => {
    if (frame.phase === 'preamble') return 0;
    if (frame.phase === 'token') token++;
    return ttftMs + Math.max(0, token) * intervalMs;
  });
}

export function deliverStream(res: ServerResponse, options: StreamDeliveryOptions): void {
  const { frames, fault, scheduler } = options;
  const due = frameDueTimes(frames, options.ttftMs, options.tokensPerSecond);
  const faultAt = fault !== null && fault.kind !== 'missing_done' ? faultPosition(frames, fault.afterChunks) : -1;
  const startedAtMs = options.now();
  let next = 0;
  let shiftMs = 0;
  let faultDone = false;
  let cancelTimer: (() => void) | null = null;
  let finished = false;

  res.once('close', () => {
    finished = true;
    cancelTimer?.();
  });

  const wait = (delayMs: number): void => {
    cancelTimer = scheduler.after(delayMs, () => {
      cancelTimer = null;
      pump();
    });
  };

  const pump = (): void => {
    if (finished) return;
    let out = '';
    while (next < frames.length || (next === faultAt && !faultDone)) {
      if (next === faultAt && !faultDone && fault !== null) {
        faultDone = true;
        switch (fault.kind) {
          case 'stream_cut':
            // No terminator, no final chunk: the socket just goes away once what was sent is flushed.
            finished = true;
            if (out === '') res.socket?.destroy();
            else res.write(out, () => res.socket?.destroy());
            return;
          case 'stream_stall':
            if (out !== '') res.write(out);
            if (fault.stallMs === undefined) return; // silent until the client gives up or the vendor closes
            shiftMs += fault.stallMs;
            wait(fault.stallMs);
            return;
          case 'malformed_chunk':
            out += fault.contentFree ? options.contentFreeMalformedFrame : options.malformedFrame;
            continue;
          case 'stream_error':
            finished = true;
            res.end(out + options.errorFrame(fault.status));
            return;
        }
      }
      const frame = frames[next];
      if (frame === undefined) break;
      if (fault?.kind === 'missing_done' && frame.phase === 'terminator') {
        next++;
        continue;
      }
      const waitMs = (due[next] ?? 0) + shiftMs - (options.now() - startedAtMs);
      if (waitMs >= 1) {
        if (out !== '') res.write(out);
        wait(waitMs);
        return;
      }
      out += frame.text;
      next++;
    }
    finished = true;
    if (fault?.kind === 'missing_done' && fault.holdOpenMs > 0) {
      if (out !== '') res.write(out);
      cancelTimer = scheduler.after(fault.holdOpenMs, () => res.end());
      return;
    }
    res.end(out);
  };

  pump();
}
