/**
 * A full garbage collection in a bench process, through its inspector (the
 * process runs with `--inspect=127.0.0.1:0`, which prints the inspector's
 * address into its log): the heap in use right after it is what the process
 * still holds — live objects — as opposed to garbage V8 had not collected yet.
 * Used by the overload scenario to tell a leak from memory V8 keeps.
 */
import { readFileSync } from 'node:fs';

/** Node flags that open a process's inspector on a free loopback port. */
export const INSPECT_ARGS = ['--inspect=127.0.0.1:0'];

function inspectorUrl(logFile: string): string | undefined {
  return /Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/[\w-]+)/.exec(readFileSync(logFile, 'utf8'))?.[1];
}

/**
 * Collects garbage in the process (twice: objects freed by the first pass's
 * finalisers go in the second) and returns its V8 heap in use afterwards, in
 * MB; null when it has no inspector or does not answer within `timeoutMs`.
 */
export async function heapUsedAfterGc(logFile: string, timeoutMs = 30_000): Promise<number | null> {
  const url = inspectorUrl(logFile);
  if (!url) return null;
  const socket = new WebSocket(url);
  const pending = new Map<number, (result: unknown) => void>();
  let next = 1;
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
    if (message.id !== undefined) pending.get(message.id)?.(message.result);
  });
  const send = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<unknown>((resolve) => {
      const id = next++;
      pending.set(id, resolve);
      socket.send(JSON.stringify({ id, method, params }));
    });
  const work = (async () => {
    await new Promise((resolve, reject) => {
      socket.addEventListener('open', resolve, { once: true });
      socket.addEventListener('error', reject, { once: true });
    });
    await send('HeapProfiler.collectGarbage');
    await send('HeapProfiler.collectGarbage');
    const answer = (await send('Runtime.evaluate', { expression: 'process.memoryUsage().heapUsed', returnByValue: true })) as {
      result?: { value?: unknown };
    };
    const bytes = Number(answer.result?.value);
    return Number.isFinite(bytes) ? Math.round(bytes / 2 ** 20) : null;
  })();
  const timeout = new Promise<null>((resolve) => setTimeout(() => resolve(null), timeoutMs).unref());
  try {
    return await Promise.race([work.catch(() => null), timeout]);
  } finally {
    socket.close();
  }
}
