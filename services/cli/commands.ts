/**
 * The CLI's commands. Each connects to what it needs, does one thing and
 * prints either text or JSON (`--json`, one document or one line per event).
 */
import { Client } from '@temporalio/client';
import { type NatsConnection } from 'nats';
import { decodeJson } from '../../lib/nats/json-payload';
import { connectNats } from '../../lib/nats/connect';
import type { RuntimeEnv } from '../../lib/config/env';
import { connectClient, temporalConnectionOptions } from '../../lib/config/temporal-connection';
import { setFailover } from '../../lib/control/failover';
import { breakerKeyOf } from '../../lib/health';
import { createBreakerSignals } from '../../lib/health-registry/breaker-signals';
import { readBreakerStates } from '../../lib/health-registry/breaker-store';
import { breakerTargetsOf } from '../../lib/health-registry/breaker-targets';
import { requestHealthViews } from '../../lib/health-registry/health-view';
import { startHealthRegistry } from '../../lib/health-registry/registry';
import { createLogger } from '../../lib/log';
import { upstreamId, type SwitchboardConfig } from '../../schemas/config';
import { BreakerEvent, type UpstreamHealth } from '../../schemas/health';
import { BREAKER_CLUSTER_HEADER } from '../../contracts/names';
import { formatStatusTable, statusRows } from './status-table';
import { payloadDataConverter } from '../../lib/codec';

export interface CliContext {
  env: RuntimeEnv;
  config: SwitchboardConfig;
  json: boolean;
  print(line: string): void;
}

/** A mistake on the command line: printed with the usage, exit code 2. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}

/** A well-formed command naming something that does not exist (an upstream, a provider). */
export class CliInputError extends Error {
  override readonly name = 'CliInputError';
}

/** How long a fresh replay of SB_CALLS may take when no worker answers. */
const REPLAY_SETTLE_MS = 1_000;

function upstreamsOf(config: SwitchboardConfig): string[] {
  return Object.entries(config.providers).flatMap(([provider, p]) => p.upstreams.map((u) => upstreamId(provider, u.name)));
}

async function withNats<T>(env: RuntimeEnv, fn: (nats: NatsConnection) => Promise<T>): Promise<T> {
  const nats = await connectNats({ url: env.NATS_URL, name: 'switchboard-cli', replicas: env.SB_NATS_REPLICAS });
  try {
    return await fn(nats);
  } finally {
    await nats.drain().catch(() => undefined);
  }
}

export async function runStatus(ctx: CliContext): Promise<void> {
  const cluster = ctx.env.SB_CLUSTER;
  await withNats(ctx.env, async (nats) => {
    const targets = breakerTargetsOf(ctx.config);
    const breakers = await readBreakerStates(
      nats,
      cluster,
      targets.map((t) => t.key),
    );
    // The live workers' view first (it is what they pick by); with none running, replay the window here.
    const views = await requestHealthViews(nats, cluster);
    const now = Date.now();
    let health: Map<string, UpstreamHealth>;
    if (views.length > 0) {
      const fullest = views.reduce((a, b) => (b.folded > a.folded ? b : a));
      health = new Map(fullest.health.map((h) => [breakerKeyOf(h.upstream, h.model), h]));
    } else {
      const registry = await startHealthRegistry({ nats, config: ctx.config, ...(cluster ? { cluster } : {}), log: createLogger({ level: 'silent' }) });
      await new Promise((resolve) => setTimeout(resolve, REPLAY_SETTLE_MS));
      health = registry.healthByKey(now);
      await registry.close();
    }
    const rows = statusRows(targets, breakers, health);
    ctx.print(ctx.json ? JSON.stringify({ at: now, cluster: cluster ?? null, workers: views.length, upstreams: rows }) : formatStatusTable(rows, now));
  });
}

/** Forces the breaker of `upstream`, or of one of its models with `model`. */
export async function runBreaker(ctx: CliContext, action: 'open' | 'close' | 'auto', upstream: string, reason: string, model?: string): Promise<void> {
  const known = upstreamsOf(ctx.config);
  if (!known.includes(upstream)) throw new CliInputError(`unknown upstream "${upstream}" (known: ${known.join(', ')})`);
  const models = breakerTargetsOf(ctx.config)
    .filter((t) => t.upstream === upstream && t.model !== undefined)
    .map((t) => t.model!);
  if (model !== undefined && !models.includes(model))
    throw new CliInputError(`no route sends model "${model}" to ${upstream} (routed: ${models.join(', ') || 'none'})`);
  const connection = await connectClient(temporalConnectionOptions({ address: ctx.env.TEMPORAL_ADDRESS, env: ctx.env }));
  try {
    const client = new Client({ connection, namespace: ctx.env.TEMPORAL_NAMESPACE, dataConverter: payloadDataConverter(ctx.env) });
    const cluster = ctx.env.SB_CLUSTER;
    const signals = createBreakerSignals({ client, taskQueue: ctx.env.SB_TASK_QUEUE, ...(cluster ? { cluster } : {}), policy: ctx.config.breaker });
    await signals.send(breakerKeyOf(upstream, model), { kind: 'operator', action, reason });
    const which = model === undefined ? upstream : `${upstream} model ${model}`;
    ctx.print(
      ctx.json
        ? JSON.stringify({ upstream, ...(model !== undefined ? { model } : {}), action, reason, sent: true })
        : `breaker ${action} sent to ${which}'s supervisor`,
    );
  } finally {
    await connection.close();
  }
}

export async function runEvents(ctx: CliContext, count: number | undefined): Promise<void> {
  const cluster = ctx.env.SB_CLUSTER;
  await withNats(ctx.env, async (nats) => {
    const subscription = nats.subscribe('sb.breaker.>');
    process.once('SIGINT', () => subscription.unsubscribe());
    let seen = 0;
    for await (const message of subscription) {
      if ((message.headers?.get(BREAKER_CLUSTER_HEADER) || undefined) !== cluster) continue;
      const parsed = BreakerEvent.safeParse(decodeJson(message.data));
      if (!parsed.success) continue;
      const e = parsed.data;
      ctx.print(
        ctx.json
          ? JSON.stringify(e)
          : `${new Date(e.at).toISOString()}  ${e.upstream}${e.model !== undefined ? ` model ${e.model}` : ' (account)'}  ${e.from} → ${e.to}  (${e.cause}) ${e.reason}`,
      );
      if (count && ++seen >= count) break;
    }
  });
}

export async function runFailover(ctx: CliContext, provider: string | null, reason: string | undefined): Promise<void> {
  if (provider !== null && !ctx.config.providers[provider]) {
    throw new CliInputError(`unknown provider "${provider}" (known: ${Object.keys(ctx.config.providers).join(', ')})`);
  }
  await withNats(ctx.env, async (nats) => {
    const value = await setFailover(nats, provider, { by: 'cli', ...(reason ? { reason } : {}) }, ctx.env.SB_CONTROL_BUCKET);
    ctx.print(ctx.json ? JSON.stringify(value) : provider ? `failover on: every plan avoids ${provider}` : 'failover off');
  });
}
