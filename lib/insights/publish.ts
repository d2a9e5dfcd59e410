/**
 * Where a finished insights report goes besides the workflow result: a
 * Markdown file per period, and an optional Slack-compatible webhook.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** `<dir>/<YYYY-MM-DD>[-<tenant>].md`, dated by the period's end. */
export function reportFileName(dir: string, periodEndMs: number, tenant?: string): string {
  const date = new Date(periodEndMs).toISOString().slice(0, 10);
  return join(dir, `${date}${tenant ? `-${tenant.replace(/[^A-Za-z0-9_-]/g, '_')}` : ''}.md`);
}

export async function writeReportFile(path: string, markdown: string): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, markdown.endsWith('\n') ? markdown : `${markdown}\n`, 'utf8');
}

/** POSTs `{text, report}`: `text` is the Markdown (what Slack-compatible hooks show), `report` the JSON for machines. */
export async function postReportWebhook(url: string, markdown: string, report: unknown): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text: markdown, report }),
    signal: AbortSignal.timeout(10_000),
  });
  // The URL is a secret (Slack's carries a token): never put it in the error.
  if (!response.ok) throw new Error(`insights webhook answered ${response.status}`);
}
