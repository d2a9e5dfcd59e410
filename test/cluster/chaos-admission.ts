/**
 * Admission as the outside sees it on the cluster: each gateway's
 * `sb_gateway_admissions_total{store}` (shared in NATS KV, or local when NATS
 * did not answer), and a burst of one user's requests through both gateways.
 */
import { waitFor } from '../../lib/ports';
import { TENANT_KEY } from './chaos-traffic';

interface Admissions {
  shared: number;
  local: number;
}

async function admissionsOf(gatewayUrl: string): Promise<Admissions> {
  const text = await (await fetch(`${gatewayUrl}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  const count = (store: string) => Number(new RegExp(`^sb_gateway_admissions_total\\{store="${store}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return { shared: count('shared'), local: count('local') };
}

/** Requests every gateway admitted with its own limiter, together. */
export async function localAdmissions(gatewayUrls: string[]): Promise<number> {
  return (await Promise.all(gatewayUrls.map(admissionsOf))).reduce((sum, a) => sum + a.local, 0);
}

/**
 * Waits until every gateway admitted `calls` requests on the shared limits in
 * a row, none on its own (after a node loss, KV operations that timed out
 * send a pod to its own limiter for a moment); returns how long that took.
 */
export async function untilAdmissionShared(gatewayUrls: string[], calls: number, timeoutMs: number): Promise<number> {
  const started = Date.now();
  let since = await Promise.all(gatewayUrls.map(admissionsOf));
  await waitFor(
    'every gateway admitting on the shared limits',
    async () => {
      const now = await Promise.all(gatewayUrls.map(admissionsOf));
      if (now.some((n, i) => n.local > since[i]!.local)) {
        since = now;
        return false;
      }
      return now.every((n, i) => n.shared >= since[i]!.shared + calls);
    },
    timeoutMs,
    250,
  );
  return Date.now() - started;
}

export interface BurstAnswer {
  gateway: number;
  status: number;
  code?: string;
  message?: string;
}

/** `count` requests of `user` at once, alternating between the gateways; each prompt names `marker` and its index. */
export async function sendBurst(gatewayUrls: string[], o: { user: string; marker: string; count: number }): Promise<{ answers: BurstAnswer[]; ms: number }> {
  const started = Date.now();
  const answers = await Promise.all(
    Array.from({ length: o.count }, async (_, i): Promise<BurstAnswer> => {
      const gateway = i % gatewayUrls.length;
      const response = await fetch(`${gatewayUrls[gateway]}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TENANT_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'chat-default', user: o.user, messages: [{ role: 'user', content: `${o.marker} burst ${i}` }] }),
      });
      const body = (await response.json()) as { error?: { code?: string; message?: string } };
      return {
        gateway,
        status: response.status,
        ...(body.error?.code ? { code: body.error.code } : {}),
        ...(body.error?.message ? { message: body.error.message } : {}),
      };
    }),
  );
  return { answers, ms: Date.now() - started };
}
