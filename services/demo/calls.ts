/**
 * Demo part 1: calls spread over the OpenAI organisations by weight; when
 * every OpenAI organisation fails, the same calls fall back to Anthropic with
 * Anthropic's prompt variant — each call a workflow in the Temporal UI.
 */
import { randomUUID } from 'node:crypto';
import type { NatsConnection } from 'nats';
import type { SwitchboardClient } from '../../lib/client';
import { breakerKeyOf } from '../../lib/health';
import { readBreakerStates } from '../../lib/health-registry/breaker-store';
import type { VendorAdmin } from './vendor-admin';

export interface DemoContext {
  sb: SwitchboardClient;
  vendor: VendorAdmin;
  uiUrl: string;
  say: (line: string) => void;
  nats: NatsConnection;
}

function tally(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()]
    .sort()
    .map(([k, n]) => `${k} ×${n}`)
    .join(', ');
}

export async function demoSpreadAndFallback({ sb, vendor, uiUrl, say, nats }: DemoContext): Promise<void> {
  const run = randomUUID().slice(0, 8);
  say(`12 calls on route chat-default (OpenAI pool: org-a weight 2, org-b 1, org-c 1)`);
  const spread = await Promise.all(
    Array.from({ length: 12 }, (_, i) =>
      sb.complete({
        route: 'chat-default',
        tenant: 'demo',
        user: `user-${i % 3}`,
        feature: 'headline',
        messages: [{ role: 'user', content: `Write a headline for a bakery, take ${i} (${run})` }],
      }),
    ),
  );
  say(`  answered by: ${tally(spread.map((r) => r.upstream))}`);
  say(`  first answer: "${spread[0]!.text.slice(0, 70)}…" (${spread[0]!.usage.outputTokens} tokens, $${(spread[0]!.costUsd ?? 0).toFixed(6)})`);

  const outage = `outage-${run}`;
  say(`every OpenAI organisation now answers 503 (fault injected at the fake vendor)`);
  await vendor.setFaults(
    ['openai/org-a', 'openai/org-b', 'openai/org-c'].map((organisation) => ({
      organisation,
      promptContains: outage,
      fault: { kind: 'status' as const, status: 503 },
    })),
  );
  try {
    const fallen = await Promise.all(
      Array.from({ length: 3 }, (_, i) =>
        sb.complete({
          route: 'chat-default',
          tenant: 'demo',
          user: 'user-9',
          feature: 'headline',
          messages: [{ role: 'user', content: `Write a headline for a florist ${i} (${outage})` }],
        }),
      ),
    );
    const first = fallen[0]!;
    say(`  all 3 answered by: ${tally(fallen.map((r) => `${r.provider}/${r.model}`))}, prompt variant ${first.promptVariant}`);
    say(`  attempt log of one call: ${first.attempts.map((a) => `${a.upstream ?? a.provider}:${a.outcome}${a.status ? `(${a.status})` : ''}`).join(' → ')}`);
    const seen = await vendor.requests(outage, true);
    const anthropic = seen.find((r) => r.protocol === 'anthropic');
    say(
      `  the vendor saw ${seen.filter((r) => r.protocol === 'openai').length} OpenAI requests (all ${[...new Set(seen.filter((r) => r.protocol === 'openai').map((r) => r.status))].join('/')}) and ${seen.filter((r) => r.protocol === 'anthropic').length} Anthropic ones`,
    );
    say(`  Anthropic got its own system prompt: "${anthropic?.promptText?.split('\n')[0]?.slice(0, 80) ?? '?'}…"`);
    say(`  in the Temporal UI: ${uiUrl}/namespaces/default/workflows/${encodeURIComponent(first.workflowId)}`);
    // The 503s were CallEvents every pod folded: the breakers (one supervisor workflow per upstream and model) react for the
    // whole cluster; a 503 is the model's fault on that organisation, so the gpt-4o-mini breakers open, not the accounts'.
    const breakers = await readBreakerStates(
      nats,
      undefined,
      ['openai/org-a', 'openai/org-b', 'openai/org-c'].map((id) => breakerKeyOf(id, 'gpt-4o-mini')),
    );
    say(
      `  breakers now: ${[...breakers.entries()].map(([id, b]) => `${id} ${b.state}`).join(', ') || 'no transition yet'} — \`npm run cli -- status\` and \`npm run cli -- events\` show them; they half-open after their cooldown and close once a probe succeeds`,
    );
  } finally {
    await vendor.clearFaults();
  }
  say(`  filter calls by search attribute: ${uiUrl}/namespaces/default/workflows?query=${encodeURIComponent('SbTenant="demo" AND SbProvider="anthropic"')}`);
}
