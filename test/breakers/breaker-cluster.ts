/**
 * A small Switchboard cluster for breaker tests: the fake vendor over real
 * HTTP, worker processes ("pods") on one task queue forming one breaker
 * cluster, a Temporal client, and a tap on `sb.breaker.>` filtered to this
 * cluster. Provider names (`bko`, `bka`) and the cluster are unique to the
 * breaker tests, so nothing here meets another test file's breakers.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@temporalio/client';
import { connectClient } from '../../lib/config/temporal-connection';
import { connect, JSONCodec, type NatsConnection, type Subscription } from 'nats';
import { createSwitchboardClient, type SwitchboardClient } from '../../lib/client';
import { breakerKeyOf } from '../../lib/health';
import { createBreakerSignals, type BreakerSignals } from '../../lib/health-registry/breaker-signals';
import { readBreakerState } from '../../lib/health-registry/breaker-store';
import { requestHealthViews, type HealthViewReply } from '../../lib/health-registry/health-view';
import { parseConfig } from '../../lib/config/load';
import { ensureStreams } from '../../lib/nats/streams';
import type { SwitchboardConfig, SwitchboardConfigInput } from '../../schemas/config';
import { BreakerEvent, type BreakerState } from '../../schemas/health';
import { startFakeVendor, type FakeVendor } from '../../services/fake-vendor';
import { BREAKER_CLUSTER_HEADER, breakerWorkflowId } from '../../contracts/names';
import { installQuietRuntime, testDataConverter, testPayloadEnv, testStack } from '../harness/env';
import { eventually } from '../harness/switchboard';
import { spawnWorker, writeConfigFile, type WorkerProcess } from '../harness/worker-process';

const orgs = ['a', 'b', 'c'] as const;
export const openaiOrg = (o: (typeof orgs)[number]) => `openai/brk-${o}`;
export const upstreamOf = (o: (typeof orgs)[number]) => `bko/brk-${o}`;
export const anthropicUpstream = 'bka/brk-x';
/** The model the route sends to the `bko` upstreams, and the key of an upstream's breaker for it. */
export const bkoModel = 'gpt-4o-mini';
export const modelBreakerOf = (upstream: string) => breakerKeyOf(upstream, bkoModel);

const keys = Object.fromEntries([...orgs.map((o) => [`SB_BRK_KEY_${o.toUpperCase()}`, `sk-fake-brk-${o}`]), ['SB_BRK_KEY_X', 'sk-ant-fake-brk-x']]);

export function breakerConfig(vendorUrl: string, overrides: Partial<SwitchboardConfigInput> = {}): SwitchboardConfigInput {
  return {
    providers: {
      bko: { protocol: 'openai', baseUrl: `${vendorUrl}/v1`, upstreams: orgs.map((o) => ({ name: `brk-${o}`, apiKeyEnv: `SB_BRK_KEY_${o.toUpperCase()}` })) },
      bka: { protocol: 'anthropic', baseUrl: vendorUrl, upstreams: [{ name: 'brk-x', apiKeyEnv: 'SB_BRK_KEY_X' }] },
    },
    routes: {
      main: {
        entries: [
          { provider: 'bko', model: 'gpt-4o-mini' },
          { provider: 'bka', model: 'claude-haiku-4-5' },
        ],
      },
    },
    retry: { initialIntervalMs: 20, maxIntervalMs: 200, maxAttemptsPerEntry: 3, maxAttempts: 10 },
    timeouts: { attemptMs: 5_000, callMs: 30_000, heartbeatMs: 2_000 },
    health: { windowMs: 20_000, bucketMs: 1_000, consecutiveFailures: 3 },
    breaker: { baseCooldownMs: 1_500, maxCooldownMs: 20_000, cooldownMultiplier: 2, jitterRatio: 0 },
    ...overrides,
  };
}

export interface BreakerCluster {
  vendor: FakeVendor;
  config: SwitchboardConfig;
  /** The pods' config file (they follow it without a restart). */
  configPath: string;
  /** Rewrites the config file atomically with these overrides on top of the cluster's own. */
  reconfigure(overrides: Partial<SwitchboardConfigInput>): void;
  taskQueue: string;
  nats: NatsConnection;
  sb: SwitchboardClient;
  signals: BreakerSignals;
  pods: WorkerProcess[];
  /** Every BreakerEvent of this cluster so far, in arrival order. */
  events: Array<BreakerEvent & { receivedAt: number }>;
  spawnPod(): WorkerProcess;
  /** Runs `switchboard <args>` (services/cli) against this cluster; resolves with stdout. */
  cli(...args: string[]): Promise<string>;
  /** The breaker `key` in KV: an upstream id (its own breaker) or `modelBreakerOf(upstream)`. */
  breaker(key: string): Promise<BreakerState | undefined>;
  views(): Promise<HealthViewReply[]>;
  /** Waits until `count` pods answer health-view requests. */
  podsReady(count: number): Promise<HealthViewReply[]>;
  waitForEvent(what: string, match: (e: BreakerEvent) => boolean, timeoutMs?: number): Promise<BreakerEvent & { receivedAt: number }>;
  /** Sends calls, `concurrency` at a time (on `routes` in turn, default `main`), until `done()` holds; returns every call's outcome. */
  trafficUntil(
    done: () => boolean | Promise<boolean>,
    options?: { concurrency?: number; timeoutMs?: number; tag?: string; routes?: readonly string[] },
  ): Promise<CallOutcome[]>;
  close(): Promise<void>;
}

export interface CallOutcome {
  ok: boolean;
  provider?: string;
  upstream?: string;
  error?: string;
}

export async function startBreakerCluster(options: {
  pods: number;
  configOverrides?: Partial<SwitchboardConfigInput>;
  podEnv?: Record<string, string>;
}): Promise<BreakerCluster> {
  installQuietRuntime();
  const { temporalAddress, natsUrl } = testStack();
  const vendor = await startFakeVendor({
    config: {
      seed: 5,
      organisations: [
        ...orgs.map((o) => ({ id: openaiOrg(o), protocol: 'openai' as const, keys: [{ name: o, key: `sk-fake-brk-${o}` }] })),
        { id: 'anthropic/brk-x', protocol: 'anthropic' as const, keys: [{ name: 'x', key: 'sk-ant-fake-brk-x' }] },
      ],
    },
  });
  const input = breakerConfig(vendor.url, options.configOverrides);
  const config = parseConfig(input, 'breaker test config');
  const configPath = writeConfigFile(input);
  const taskQueue = `brk-${randomUUID().slice(0, 12)}`;
  const connection = await connectClient({ address: temporalAddress });
  const client = new Client({ connection, dataConverter: testDataConverter() });
  const nats = await connect({ servers: natsUrl, name: 'breaker-test' });
  await ensureStreams(nats);
  const events: BreakerCluster['events'] = [];
  const codec = JSONCodec<unknown>();
  const tap: Subscription = nats.subscribe('sb.breaker.>', {
    callback: (_err, message) => {
      if (message.headers?.get(BREAKER_CLUSTER_HEADER) !== taskQueue) return;
      events.push({ ...BreakerEvent.parse(codec.decode(message.data)), receivedAt: Date.now() });
    },
  });
  const pods: WorkerProcess[] = [];
  const spawnPod = () => {
    const pod = spawnWorker({ configPath, taskQueue, env: { ...keys, LOG_LEVEL: 'warn', ...options.podEnv } });
    pods.push(pod);
    return pod;
  };
  const cluster: BreakerCluster = {
    vendor,
    config,
    configPath,
    reconfigure(overrides) {
      writeFileSync(`${configPath}.tmp`, JSON.stringify(breakerConfig(vendor.url, { ...options.configOverrides, ...overrides })));
      renameSync(`${configPath}.tmp`, configPath);
    },
    taskQueue,
    nats,
    sb: createSwitchboardClient({ client, taskQueue }),
    signals: createBreakerSignals({ client, taskQueue, cluster: taskQueue, policy: config.breaker }),
    pods,
    events,
    spawnPod,
    async cli(...args) {
      const env = {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        ...testPayloadEnv(),
        SB_CONFIG: configPath,
        TEMPORAL_ADDRESS: temporalAddress,
        NATS_URL: natsUrl,
        SB_TASK_QUEUE: taskQueue,
        SB_CLUSTER: taskQueue,
      };
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'services/cli/main.ts', ...args], {
        cwd: resolve(__dirname, '../..'),
        env,
        timeout: 30_000,
      });
      return stdout;
    },
    breaker: (key) => readBreakerState(nats, taskQueue, key),
    // Every pod's reply within 2 s: on a loaded 2-core machine a pod's answer can take longer than a quiet one's few ms.
    views: () => requestHealthViews(nats, taskQueue, 2_000),
    podsReady: (count) =>
      eventually(
        `${count} pods to answer`,
        async () => {
          const views = await requestHealthViews(nats, taskQueue, 2_000);
          return views.length >= count && views.every((v) => v.replayed) ? views : undefined;
        },
        60_000,
      ),
    waitForEvent: (what, match, timeoutMs = 30_000) => eventually(what, () => events.find(match), timeoutMs),
    // Generous: on a loaded 2-core box a supervisor's workflow tasks can take seconds each.
    async trafficUntil(done, { concurrency = 3, timeoutMs = 60_000, tag = 'traffic', routes = ['main'] } = {}) {
      const outcomes: CallOutcome[] = [];
      const deadline = Date.now() + timeoutMs;
      let n = 0;
      while (!(await done())) {
        if (Date.now() > deadline) throw new Error(`traffic ran ${timeoutMs} ms without reaching its condition`);
        const batch = await Promise.all(
          Array.from({ length: concurrency }, () => {
            const content = `${tag} ${n++} ${randomUUID().slice(0, 6)}`;
            return cluster.sb.complete({ route: routes[n % routes.length]!, messages: [{ role: 'user', content }] }).then(
              (r): CallOutcome => ({ ok: true, provider: r.provider, upstream: r.upstream }),
              (e: unknown): CallOutcome => ({ ok: false, error: e instanceof Error ? e.message : String(e) }),
            );
          }),
        );
        outcomes.push(...batch);
      }
      return outcomes;
    },
    async close() {
      tap.unsubscribe();
      for (const pod of pods) pod.kill('SIGKILL');
      // Supervisors run forever by design; end this cluster's so the shared server stays tidy.
      const upstreams = [...orgs.map(upstreamOf), anthropicUpstream];
      const keys = [...upstreams, ...orgs.map((o) => modelBreakerOf(upstreamOf(o))), breakerKeyOf(anthropicUpstream, 'claude-haiku-4-5')];
      const ids = keys.map((k) => breakerWorkflowId(k, taskQueue));
      await Promise.allSettled(ids.map((id) => client.workflow.getHandle(id).terminate('test over')));
      await Promise.allSettled(pods.map((p) => p.exited));
      await nats.drain().catch(() => undefined);
      await connection.close().catch(() => undefined);
      await vendor.close();
    },
  };
  for (let i = 0; i < options.pods; i++) spawnPod();
  try {
    await cluster.podsReady(options.pods);
  } catch (error) {
    await cluster.close();
    throw new Error(`pods did not start: ${pods.map((p) => p.output().slice(-2_000)).join('\n---\n')}`, { cause: error });
  }
  return cluster;
}
