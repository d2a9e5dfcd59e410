/**
 * A malformed stream event that carries no content (a truncated keep-alive,
 * a broken metadata chunk) is skipped, not a failure: the vendor SDKs throw
 * on any event whose JSON does not parse, which would end a healthy stream.
 * An event that carries content (`content`, `text`, `partial_json`,
 * `arguments` with a value) still breaks the stream: skipping it would lose
 * text, and the call's stream resume takes over instead. Installed as the
 * SDKs' `fetch`; what was skipped is counted for the attempt running it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface SkippedChunks {
  count: number;
  /** The first skipped event's data, cut to 200 characters, for the log. */
  sample?: string;
}

const current = new AsyncLocalStorage<SkippedChunks>();

/** Runs `fn` with a counter the SDKs' streams report skipped events to. */
export function countingSkippedChunks<T>(fn: () => Promise<T>): { skipped: SkippedChunks; done: Promise<T> } {
  const skipped: SkippedChunks = { count: 0 };
  return { skipped, done: current.run(skipped, fn) };
}

const CONTENT = /"(content|text|partial_json|arguments|refusal)"\s*:\s*"(?!")/;

/** The event's data is JSON, `[DONE]`, or carries content: it goes through. */
export function isSkippableEvent(event: string): boolean {
  const data = event
    .split('\n')
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice(line.startsWith('data: ') ? 6 : 5))
    .join('\n');
  if (data === '' || data === '[DONE]' || CONTENT.test(data)) return false;
  try {
    JSON.parse(data);
    return false;
  } catch {
    return true;
  }
}

/** Splits an SSE text stream into events and drops the skippable ones. */
export function skippingEvents(onSkip: (event: string) => void): TransformStream<string, string> {
  let buffer = '';
  return new TransformStream<string, string>({
    transform(text, controller) {
      buffer = (buffer + text).replace(/\r\n/g, '\n');
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const event = buffer.slice(0, end + 2);
        buffer = buffer.slice(end + 2);
        if (isSkippableEvent(event.trimEnd())) onSkip(event.trimEnd());
        else controller.enqueue(event);
        end = buffer.indexOf('\n\n');
      }
    },
    flush(controller) {
      if (buffer) controller.enqueue(buffer);
    },
  });
}

/** `fetch` for the vendor SDKs: event-stream bodies lose their content-free malformed events. */
export const skippingFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
  const response = await fetch(input, init);
  const counter = current.getStore();
  if (!response.body || !(response.headers.get('content-type') ?? '').includes('text/event-stream')) return response;
  const body = response.body
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(
      skippingEvents((event) => {
        if (!counter) return;
        counter.count++;
        counter.sample ??= event.slice(0, 200);
      }),
    )
    .pipeThrough(new TextEncoderStream());
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
};
