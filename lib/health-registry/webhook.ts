/**
 * Breaker transitions as Slack-compatible incoming-webhook JSON (`text` plus
 * `blocks`), posted by the supervisor's publish activity when configured.
 */
import type { BreakerEvent } from '../../schemas/health';

const icons: Record<BreakerEvent['transition'], string> = {
  opened: ':red_circle:',
  half_open: ':large_yellow_circle:',
  closed: ':large_green_circle:',
  forced_open: ':no_entry:',
  forced_closed: ':white_check_mark:',
};

export interface SlackMessage {
  text: string;
  blocks: Array<{ type: 'section'; text: { type: 'mrkdwn'; text: string } }>;
}

export function breakerWebhookMessage(event: BreakerEvent, cluster?: string): SlackMessage {
  const where = cluster ? ` (cluster ${cluster})` : '';
  const reopen = event.evidence.reopenAt ? `, half-open at ${new Date(event.evidence.reopenAt).toISOString()}` : '';
  const which = event.model !== undefined ? `${event.upstream} model ${event.model}` : event.upstream;
  const text = `${icons[event.transition]} breaker ${event.transition} for ${which}${where}: ${event.reason}${reopen}`;
  const counts = `calls ${event.evidence.calls}, failures ${event.evidence.failures}, consecutive ${event.evidence.consecutiveFailures}`;
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `${text}\n${event.from} → ${event.to} · ${counts}` } }] };
}

export async function postBreakerWebhook(url: string, event: BreakerEvent, cluster?: string): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(breakerWebhookMessage(event, cluster)),
    signal: AbortSignal.timeout(5_000),
  });
  // The URL is a secret (Slack's carries a token): never put it in the error.
  if (!response.ok) throw new Error(`breaker webhook answered ${response.status}`);
}
