/**
 * Server-sent event framing and the plan of a streamed answer: each frame
 * knows its place in the answer, so delivery can pace it and faults can cut,
 * stall or spoil it at a chosen token.
 */

export type FramePhase =
  /** Sent with the headers (Anthropic `message_start`, `ping`). */
  | 'preamble'
  /** Sent with the first token (OpenAI's role chunk). */
  | 'lead'
  /** One token of the answer: what `afterChunks` counts. */
  | 'token'
  /** Sent with the last token: finish reason, usage. */
  | 'trailer'
  /** The end-of-stream marker: `data: [DONE]` / `message_stop`. */
  | 'terminator';

export interface SseFrame {
  phase: FramePhase;
  text: string;
}

/** A `data:`-only event (OpenAI). */
export function sseData(data: string): string {
  return `data: ${data}\n\n`;
}

/** A named event (Anthropic). */
export function sseEvent(event: string, data: string): string {
  return `event: ${event}\ndata: ${data}\n\n`;
}
