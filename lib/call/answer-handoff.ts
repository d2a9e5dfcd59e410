/**
 * The answer hand-off, in a gateway that runs a worker in-process: a call
 * started eagerly runs its first workflow task — and in it `answerCall` —
 * in the very process whose HTTP request waits for the answer. When
 * `answerCall` ends with the call's final answer, stored in the attempt
 * journal and recorded, that answer goes to the waiting request at once,
 * instead of after Temporal has stored the call's completion and answered
 * the result's long poll (the last ≈ 8 ms of a call at concurrency 1 here,
 * docs/benchmarks.md). The workflow still completes with that same answer:
 * were this process to die before completing the task, the task times out
 * and its re-run reads the answer back from the journal.
 *
 * Anything else — a failed first attempt, an answer for a second look, a
 * cached answer, a journal that did not take the answer, a task that never
 * reaches `answerCall` here — releases nothing, and the request waits for the
 * workflow's result as it would without the hand-off.
 */
import type { LlmResult } from '../../schemas/llm';

/** How long an eager start's task may take to reach `answerCall` before the request stops counting on the hand-off. */
export const HANDOFF_BEGIN_WITHIN_MS = 2_000;

export interface ExpectedAnswer {
  /** The call was started: eagerly (its first task runs here), or not (resolves `undefined` at once). */
  started(eagerly: boolean): void;
  /** The final answer handed over here, or `undefined`: wait for the workflow's result instead. */
  readonly answer: Promise<LlmResult | undefined>;
  /** Stops expecting (the start failed, or the request is done); later releases are ignored. */
  dispose(): void;
}

export interface AnswerHandoff {
  /** The gateway, before it starts a call: an answer for `callId` released in this process is handed over to it. */
  expect(callId: string): ExpectedAnswer;
  /** `answerCall`, as it begins: whether a request in this process waits for this call's answer. */
  begin(callId: string): boolean;
  /** `answerCall`, as it ends: the answer the workflow completes with, or `undefined` when the workflow decides. */
  release(callId: string, answer: LlmResult | undefined): void;
}

interface Waiting {
  begun: boolean;
  settle(answer: LlmResult | undefined): void;
}

export function createAnswerHandoff(options: { beginWithinMs?: number } = {}): AnswerHandoff {
  const beginWithinMs = options.beginWithinMs ?? HANDOFF_BEGIN_WITHIN_MS;
  // More than one request may wait for one call: a retry with the same Idempotency-Key joins it while it runs.
  const waiting = new Map<string, Set<Waiting>>();
  return {
    expect(callId) {
      let settle: (answer: LlmResult | undefined) => void = () => undefined;
      const answer = new Promise<LlmResult | undefined>((resolve) => (settle = resolve));
      let timer: NodeJS.Timeout | undefined;
      const entry: Waiting = {
        begun: false,
        settle: (value) => {
          clearTimeout(timer);
          const forCall = waiting.get(callId);
          forCall?.delete(entry);
          if (forCall?.size === 0) waiting.delete(callId);
          settle(value);
        },
      };
      waiting.set(callId, (waiting.get(callId) ?? new Set()).add(entry));
      return {
        answer,
        started(eagerly) {
          if (!eagerly) return entry.settle(undefined);
          // A task that has not reached answerCall by then may never do so here (its workflow failed first, the worker stopped).
          timer = setTimeout(() => entry.begun || entry.settle(undefined), beginWithinMs);
          timer.unref();
        },
        dispose: () => entry.settle(undefined),
      };
    },
    begin(callId) {
      const forCall = waiting.get(callId);
      for (const entry of forCall ?? []) entry.begun = true;
      return forCall !== undefined;
    },
    release(callId, answer) {
      // The copy the workflow's result would be after its trip through the payload converter (JSON): the same answer.
      const copy = answer === undefined ? undefined : JSON.stringify(answer);
      for (const entry of [...(waiting.get(callId) ?? [])]) entry.settle(copy === undefined ? undefined : (JSON.parse(copy) as LlmResult));
    },
  };
}
