/**
 * Streaming that never lies, for both wire dialects. Deltas of the attempt
 * that streams first are relayed as they come; the HTTP status is sent only
 * with the first token, so a call that fails before any token answers with a
 * real error status, and failover before the first token is invisible. When
 * the streaming attempt breaks after its first token, the route's
 * `midStream: resume` (default) lets the next attempt continue: it streams
 * only what follows the text already sent, and only when its answer begins
 * with that text. The stream either ends exactly as the workflow's result
 * says (the remainder, finish reason, usage, the dialect's terminator) or —
 * when the call failed, or the result is not a continuation of what was sent
 * — with the dialect's error event and no terminator. With `midStream:
 * error` a break ends the stream at once. In `buffer` mode nothing goes out
 * before the call succeeded.
 */
import type { ServerResponse } from 'node:http';
import { ErrorCode, type NatsConnection, type Subscription } from 'nats';
import { decodeStreamChunk, streamSubject, type StreamChunk } from '../../lib/nats/stream-chunks';
import type { LlmResult } from '../../schemas/llm';
import { gatewayErrorOfCall } from './call-errors';
import { isSwitchboardCallError } from '../../lib/client/errors';
import type { StartedCall } from './calls';
import { isGatewayError, type GatewayError } from './http-errors';
import { resultHeaders } from './openai/response';

export type StreamOutcome = 'done' | 'error_before_first_token' | 'broken_after_first_token' | 'client_gone';

/** How one wire protocol writes a stream: each method returns the SSE text to send. */
export interface StreamDialect {
  /**
   * The first events, sent with the status line: with the first token (and the model the vendor says is answering),
   * or with the result when no token streamed.
   */
  opening(result?: LlmResult, model?: string): string;
  /** One token chunk; `model` is the answering model (every chunk names it, not only the last). */
  delta(text: string, model?: string): string;
  /** Everything after the last delta: the unsent rest of the text, tool calls, finish reason, usage and the terminator. */
  closing(result: LlmResult, remainder: string): string;
  /** The error event that voids a stream broken after its first token (clients raise it; no terminator follows). */
  broken(message: string): string;
}

export interface StreamRelayOptions {
  res: ServerResponse;
  nats: NatsConnection;
  callId: string;
  mode: 'relay' | 'buffer';
  dialect: StreamDialect;
  /** Starts the workflow; called after the subscription is live. */
  start(): Promise<StartedCall>;
  /** Resolves with the result or rejects (SwitchboardCallError, GatewayError for the deadline). */
  awaitResult(call: StartedCall): Promise<LlmResult>;
  /** Whether to cancel the workflow when the stream cannot be completed (no idempotency key: nobody can pick the answer up). */
  cancelOnAbandon: boolean;
  /** The route's `midStream`: a stream broken after its first token waits for the attempt that resumes it, or ends at once. Default resume. */
  midStream?: 'resume' | 'error';
  onFirstToken(): void;
}

/**
 * Flushes the connection once more when the first flush was cut by a lost
 * connection: on a NATS cluster the client is on a surviving node within
 * moments, the subscription is sent again there, and the second flush
 * answers; with NATS away the second flush fails as the first did (a 503).
 */
async function flushSubscription(nats: NatsConnection): Promise<void> {
  try {
    await nats.flush();
  } catch (error) {
    if ((error as { code?: unknown }).code !== ErrorCode.Disconnect) throw error;
    await nats.flush();
  }
}

const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' };

/** Relays one call as SSE. Throws (before anything was written) when the call fails before its first token. */
export async function relayStream(options: StreamRelayOptions): Promise<StreamOutcome> {
  const { res, callId, dialect } = options;
  let committed: number | undefined;
  let sent = '';
  let finished = false;
  let clientGone = false;
  const open = (headers: Record<string, string>, result?: LlmResult, model?: string) => {
    if (res.headersSent) return;
    res.writeHead(200, { ...SSE_HEADERS, 'x-switchboard-call-id': callId, ...headers });
    res.write(dialect.opening(result, model));
  };
  let brokenReason: string | undefined;
  let abandon: (why: 'broken' | 'gone') => void = () => undefined;
  // Settles when waiting for the result no longer helps: the stream broke or the client left.
  const abandoned = new Promise<'broken' | 'gone'>((resolve) => (abandon = resolve));
  const breakStream = (reason: string) => {
    if (finished) return;
    finished = true;
    brokenReason = reason;
    abandon('broken');
    res.end(dialect.broken(`the answer broke off after it had started (${reason}); the partial answer is void`));
  };

  // The committed attempt broke after its first token and the route resumes: the next attempt that says it resumes takes over.
  let resuming = false;
  let resumed = false;
  const onChunk = (chunk: StreamChunk) => {
    if (finished) return;
    if (chunk.type === 'delta') {
      if (committed === undefined) {
        committed = chunk.attempt;
        open({}, undefined, chunk.model);
        options.onFirstToken();
      } else if (chunk.attempt !== committed) {
        // Only a resuming attempt continues the stream; its deltas follow the text already sent.
        if (!(resuming && chunk.resumes && chunk.attempt > committed)) return;
        committed = chunk.attempt;
        resuming = false;
      }
      sent += chunk.text;
      res.write(dialect.delta(chunk.text, chunk.model));
    } else if (chunk.attempt === committed) {
      if (options.midStream !== 'error') {
        resuming = true;
        resumed = true;
        return;
      }
      breakStream(`attempt ${chunk.attempt} failed: ${chunk.reason}`);
    }
  };

  let sub: Subscription | undefined;
  if (options.mode === 'relay') {
    sub = options.nats.subscribe(streamSubject(callId));
    // The SUB must reach the server before the activity can publish.
    await flushSubscription(options.nats);
    void (async () => {
      for await (const message of sub!) {
        let chunk: StreamChunk;
        try {
          chunk = decodeStreamChunk(message.data);
        } catch {
          continue;
        }
        onChunk(chunk);
      }
    })();
  }
  res.once('close', () => {
    if (res.writableFinished) return;
    clientGone = true;
    abandon('gone');
  });

  let call: StartedCall | undefined;
  try {
    call = await options.start();
    const result = await Promise.race([options.awaitResult(call), abandoned]);
    // An answer handed over in-process can overtake the last deltas on their way through NATS: a round trip lets those
    // land first, so the stream ends as it streamed (what still has not come goes out as the closing's remainder).
    if (sub && typeof result === 'object') await options.nats.flush().catch(() => undefined);
    if (clientGone) return 'client_gone';
    if (result === 'broken' || result === 'gone' || finished) return 'broken_after_first_token';
    const answering = result.attempts.at(-1)?.attempt;
    // After a resume the answering attempt may have had nothing new to send: what counts is that its answer continues the stream.
    if (committed !== undefined && ((answering !== committed && !resumed) || !result.text.startsWith(sent))) {
      breakStream(`attempt ${answering ?? '?'} answered, not the streamed attempt ${committed}`);
      return 'broken_after_first_token';
    }
    if (committed === undefined) options.onFirstToken();
    open(resultHeaders(result), result);
    finished = true;
    res.end(dialect.closing(result, result.text.slice(sent.length)));
    return 'done';
  } catch (error) {
    const mapped: GatewayError | undefined = isSwitchboardCallError(error) ? gatewayErrorOfCall(error, callId) : isGatewayError(error) ? error : undefined;
    if (!res.headersSent) throw mapped ?? error;
    if (!finished) breakStream(mapped ? `${mapped.extra.code ?? mapped.type}: ${mapped.message}` : 'internal error');
    return 'broken_after_first_token';
  } finally {
    finished = true;
    sub?.unsubscribe();
    if ((clientGone || brokenReason) && options.cancelOnAbandon) await call?.cancel();
  }
}
