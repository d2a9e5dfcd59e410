/**
 * Steady traffic for the chaos suite: closed-loop callers on every gateway
 * (one plain, one streaming each) through the official `openai` client, and
 * what they saw — each call's gateway, outcome and time.
 */
import OpenAI from 'openai';

export const TENANT_KEY = 'sb-demo-key-acme';

export interface Outcome {
  gateway: number;
  ok: boolean;
  error?: string;
  at: number;
}

/** Distinct users per loop: each one calls far less often than the chaos config's user limit (chaos-config.ts). */
const USERS_PER_LOOP = 400;

export function startTraffic(gatewayUrls: string[]) {
  const outcomes: Outcome[] = [];
  let running = true;
  const loop = async (gateway: number, stream: boolean) => {
    const client = new OpenAI({ baseURL: `${gatewayUrls[gateway]}/v1`, apiKey: TENANT_KEY, maxRetries: 0, timeout: 60_000 });
    for (let i = 0; running; i++) {
      const content = `chaos ${gateway}-${stream ? 's' : 'p'}-${i}`;
      // Named users, each well inside its segment's limit: the limits are not what the traffic tests.
      const user = `chaos-${gateway}-${stream ? 's' : 'p'}-${i % USERS_PER_LOOP}`;
      try {
        if (stream) {
          const chunks = await client.chat.completions.create({ model: 'chat-default', stream: true, user, messages: [{ role: 'user', content }] });
          let finished = false;
          for await (const chunk of chunks) if (chunk.choices[0]?.finish_reason) finished = true;
          if (!finished) throw new Error('stream ended without a finish reason');
        } else {
          await client.chat.completions.create({ model: 'chat-default', user, messages: [{ role: 'user', content }] });
        }
        outcomes.push({ gateway, ok: true, at: Date.now() });
      } catch (error) {
        outcomes.push({ gateway, ok: false, error: error instanceof Error ? error.message : String(error), at: Date.now() });
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  };
  const loops = gatewayUrls.flatMap((_, gateway) => [loop(gateway, false), loop(gateway, true)]);
  return {
    outcomes,
    /** Answered calls since `sinceMs` (on `gateway`, or on any). */
    answeredSince: (sinceMs: number, gateway?: number) =>
      outcomes.filter((o) => o.ok && o.at > sinceMs && (gateway === undefined || o.gateway === gateway)).length,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** "N × message" per distinct error, most frequent first. */
export function describeErrors(failures: Outcome[]): string {
  const counts = new Map<string, number>();
  for (const f of failures) counts.set(f.error ?? '?', (counts.get(f.error ?? '?') ?? 0) + 1);
  return (
    [...counts]
      .sort((a, b) => b[1] - a[1])
      .map(([message, n]) => `${n} × ${message.slice(0, 120)}`)
      .join('; ') || 'none'
  );
}
