/**
 * Demo part: a live breaker timeline. Steady traffic flows on chat-default
 * while one OpenAI organisation starts failing at the fake vendor; every
 * breaker event (`sb.breaker.>`) and every request the sick organisation
 * gets is printed as it happens — opened with its evidence, half-open, the
 * probe, re-opened with a longer cooldown, then healed: half-open, probe,
 * closed — while the callers see no error. Ends with a fallback drill that
 * finds a broken fallback nobody's traffic had noticed.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { type NatsConnection } from 'nats';
import { decodeJson } from '../../lib/nats/json-payload';
import type { SwitchboardClient } from '../../lib/client';
import { PROBE_ROUTE } from '../../activities/attempts';
import { breakerKeyOf } from '../../lib/health';
import { readBreakerStates } from '../../lib/health-registry/breaker-store';
import { CallEvent } from '../../schemas/call-event';
import { BreakerEvent } from '../../schemas/health';
import { BREAKER_CLUSTER_HEADER, TASK_QUEUE } from '../../contracts/names';
import { formatDrillTable, runDrillWorkflow } from '../cli/drill';
import type { VendorAdmin } from './vendor-admin';

export interface BreakerTimelineContext {
  client: Client;
  sb: SwitchboardClient;
  vendor: VendorAdmin;
  nats: NatsConnection;
  say: (line: string) => void;
}

const SICK = 'openai/org-b';
const OPENAI_POOL = ['openai/org-a', 'openai/org-b', 'openai/org-c'];
/** Breakers are per upstream and model: each organisation's own and its chat-default model's (a 503 trips the latter). */
const OPENAI_BREAKERS = OPENAI_POOL.flatMap((id) => [id, breakerKeyOf(id, 'gpt-4o-mini')]);
/** Callers, each sending its next call as soon as the last one answered: steady traffic that adapts to the machine instead of piling up. */
const CALLERS = 3;
/** A caller's pause between calls. */
const CALLER_PAUSE_MS = 100;
/** Cooldowns are 5 s then 10 s (±20 %) with the default breaker policy; every wait has room to spare on a loaded machine. */
const STEP_TIMEOUT_MS = 40_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** CALLERS closed-loop callers on chat-default, answers counted by upstream, until stop(). */
function startTraffic(sb: SwitchboardClient, tag: string) {
  const byUpstream = new Map<string, number>();
  const errors: string[] = [];
  let sent = 0;
  let stopping = false;
  const caller = async (id: number) => {
    while (!stopping) {
      const n = sent++;
      try {
        const r = await sb.complete({
          route: 'chat-default',
          tenant: 'demo',
          user: `timeline-${id}`,
          feature: 'tagline',
          messages: [{ role: 'user', content: `Write a tagline for a bike shop, take ${n} (${tag})` }],
        });
        byUpstream.set(r.upstream, (byUpstream.get(r.upstream) ?? 0) + 1);
      } catch (e) {
        errors.push(e instanceof Error ? e.message : String(e));
      }
      await sleep(CALLER_PAUSE_MS);
    }
  };
  const callers = Array.from({ length: CALLERS }, (_, id) => caller(id));
  const answered = () => [...byUpstream.values()].reduce((a, b) => a + b, 0);
  return {
    summary: () =>
      `${answered()} answered (${[...byUpstream.entries()]
        .sort()
        .map(([u, c]) => `${u} ${c}`)
        .join(', ')}), ${errors.length} client-visible errors`,
    async stop() {
      stopping = true;
      await Promise.all(callers);
      return { sent, answered: answered(), errors, byUpstream };
    },
  };
}

export async function demoBreakerTimeline({ client, sb, vendor, nats, say }: BreakerTimelineContext): Promise<void> {
  const tag = `timeline-${randomUUID().slice(0, 8)}`;
  const t0 = Date.now();
  const stamp = (at: number = Date.now()) => `  [+${((at - t0) / 1000).toFixed(1).padStart(4)}s]`;
  say(`a live breaker timeline: ${CALLERS} callers on chat-default, call after call, while ${SICK} falls sick and heals (events from sb.breaker.>)`);

  let phase: 'warming' | 'failing' | 'open' | 'half_open' | 'closed' = 'warming';
  const transitions: BreakerEvent[] = [];
  const tally = { beforeOpen: 0, whileOpen: 0, probesFailed: 0, probesOk: 0 };
  // The production cluster's events carry no cluster header.
  const breakerTap = nats.subscribe('sb.breaker.>', {
    callback: (_err, message) => {
      if (message.headers?.get(BREAKER_CLUSTER_HEADER)) return;
      const parsed = BreakerEvent.safeParse(decodeJson(message.data));
      if (!parsed.success || phase === 'warming') return;
      const e = parsed.data;
      if (e.upstream !== SICK) {
        say(`${stamp(e.at)} ${e.upstream}: ${e.from} → ${e.to} (${e.cause})`);
        return;
      }
      transitions.push(e);
      if (e.transition === 'opened') {
        phase = 'open';
        const last = e.evidence.recentErrors[0];
        const reopensIn = e.evidence.reopenAt !== undefined ? `${((e.evidence.reopenAt - e.at) / 1000).toFixed(1)} s` : '?';
        const lastError = `${last?.status ?? ''} ${last?.errorType ?? ''}`.trim();
        const why =
          e.cause === 'probe_failed'
            ? `the probe failed (${lastError}); a longer cooldown`
            : `${e.cause}: ${e.evidence.consecutiveFailures} failures in a row, ${e.evidence.failures}/${e.evidence.calls} calls failed in the window, last ${lastError}`;
        say(`${stamp(e.at)} ⚡ ${SICK}${e.model ? ` (${e.model})` : ''} ${e.from} → OPEN — ${why}; half-opens in ${reopensIn}`);
      } else if (e.transition === 'half_open') {
        phase = 'half_open';
        say(
          `${stamp(e.at)} ◐ ${SICK}${e.model ? ` (${e.model})` : ''} open → HALF_OPEN: its supervisor sends one probe (callers share the same one-probe budget)`,
        );
      } else if (e.transition === 'closed') {
        phase = 'closed';
        say(`${stamp(e.at)} ✓ ${SICK} half_open → CLOSED: the probe answered, full traffic again`);
      } else {
        say(`${stamp(e.at)} ${SICK} ${e.from} → ${e.to} (${e.cause}) ${e.reason}`);
      }
    },
  });
  // What the sick organisation is asked while it is out of service: the failures that open it, then only probes.
  const callTap = nats.subscribe(`sb.call.*.${SICK}`, {
    callback: (_err, message) => {
      const parsed = CallEvent.safeParse(decodeJson(message.data));
      if (!parsed.success || parsed.data.cluster || phase === 'warming' || phase === 'closed') return;
      const e = parsed.data;
      const what = e.outcome === 'success' ? `${e.status ?? 200} ok` : `${e.status ?? ''} ${e.outcome}`;
      // The supervisor's own probe names its route; its event may arrive after the re-open it caused.
      const probe = phase === 'half_open' || e.route === PROBE_ROUTE;
      if (probe) tally[e.outcome === 'success' ? 'probesOk' : 'probesFailed']++;
      else if (phase === 'failing') tally.beforeOpen++;
      else tally.whileOpen++;
      const role = probe ? 'probe' : phase === 'open' ? 'already in flight when it opened' : 'call (retried on another organisation)';
      say(`${stamp(e.at)}     ${SICK} ← ${role}: ${what}`);
    },
  });
  const nextTransition = async (transition: BreakerEvent['transition'], after: number): Promise<boolean> => {
    const deadline = Date.now() + STEP_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (transitions.slice(after).some((e) => e.transition === transition)) return true;
      await sleep(50);
    }
    say(`${stamp()} (no ${transition} within ${STEP_TIMEOUT_MS / 1000} s — is the worker running? \`npm run cli -- status\`)`);
    return false;
  };

  const traffic = startTraffic(sb, tag);
  const progress = setInterval(() => say(`${stamp()} traffic: ${traffic.summary()}`), 5_000);
  try {
    // The outage earlier in the demo opened the OpenAI breakers; traffic probes them closed again first.
    const warmDeadline = Date.now() + STEP_TIMEOUT_MS;
    const before = await readBreakerStates(nats, undefined, OPENAI_BREAKERS);
    const open = [...before.values()].filter((b) => b.state !== 'closed').map((b) => `${b.upstream}${b.model ? ` ${b.model}` : ''} ${b.state}`);
    if (open.length)
      say(`${stamp()} the outage above left ${open.join(', ')}: traffic goes to the others (or the fallback) while they are probed closed again`);
    for (;;) {
      const states = await readBreakerStates(nats, undefined, OPENAI_BREAKERS);
      const notClosed = [...states.values()].filter((b) => b.state !== 'closed');
      if (notClosed.length === 0 || Date.now() > warmDeadline) {
        say(`${stamp()} OpenAI breakers: ${OPENAI_BREAKERS.map((key) => `${key} ${states.get(key)?.state ?? 'closed'}`).join(', ')}`);
        break;
      }
      await sleep(250);
    }
    await sleep(1_000);
    say(`${stamp()} ${SICK} starts answering every request with 503 (fault at the fake vendor)`);
    await vendor.setFaults([{ organisation: SICK, fault: { kind: 'status', status: 503 } }]);
    phase = 'failing';
    if (await nextTransition('opened', 0)) {
      const afterFirstOpen = transitions.length;
      // The first probe meets the same fault: re-opened, with a longer cooldown.
      if ((await nextTransition('half_open', afterFirstOpen)) && (await nextTransition('opened', afterFirstOpen))) {
        say(`${stamp()} ${SICK} heals (fault cleared at the fake vendor)`);
        await vendor.clearFaults();
        const afterHeal = transitions.length;
        if (await nextTransition('half_open', afterHeal)) await nextTransition('closed', afterHeal);
      }
    }
    await sleep(2_000);
  } finally {
    clearInterval(progress);
    await vendor.clearFaults();
    breakerTap.unsubscribe();
    callTap.unsubscribe();
  }
  const result = await traffic.stop();
  const failing = (await vendor.requests(tag)).filter((r) => r.organisation === SICK && r.status === 503).length;
  say(
    `  ${result.sent} calls in ${((Date.now() - t0) / 1000).toFixed(0)} s; client-visible errors: ${result.errors.length}${result.errors.length ? ` (${result.errors.slice(0, 2).join('; ')})` : ''}`,
  );
  say(
    `  served by: ${[...result.byUpstream.entries()]
      .sort()
      .map(([u, c]) => `${u} ${c}`)
      .join(', ')}`,
  );
  // The fake vendor's log by the traffic's tag holds the callers' requests; the supervisor's probes carry no tag.
  say(
    `  ${SICK} was sent ${failing} callers' requests while sick (the fake vendor's log) and ${tally.probesFailed} failed probe(s): ${tally.beforeOpen} before its breaker opened (threshold 3, counted across workers), ${tally.whileOpen} already in flight as it opened; after healing, ${tally.probesOk} probe that closed it`,
  );

  say('a fallback drill (`npm run cli -- drill chat-default`) while the fallback, Anthropic, is broken — no user traffic would have noticed');
  await vendor.setFaults([{ organisation: 'anthropic/org-a', fault: { kind: 'status', status: 503 } }]);
  try {
    const run = await runDrillWorkflow(client, TASK_QUEUE, ['chat-default']);
    for (const line of formatDrillTable(run).split('\n')) say(`  ${line}`);
    say('  the report also went to sb.drill.chat-default and sb_drill_result_total; a Schedule runs the same drill over every route every 6 h');
  } finally {
    await vendor.clearFaults();
  }
}
