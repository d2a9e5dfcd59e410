/**
 * A Switchboard worker: Temporal worker on the switchboard task queue with
 * the llmCall workflow, its activities, and their live dependencies (NATS,
 * the upstream pool, the failover watch). Used by services/worker/main.ts,
 * the demo and the tests.
 */
import { Client, type Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { NatsConnection } from 'nats';
import { connectNats } from '../../lib/nats/connect';
import { createAttemptActivities, type AttemptOptions } from '../../activities/attempts';
import { createCacheActivities } from '../../activities/cache';
import { createCallStepActivities } from '../../activities/call-steps';
import { createInteractionActivities } from '../../activities/interactions';
import { createJsonCheckActivities } from '../../activities/json-check';
import { createPlanActivities } from '../../activities/plan';
import { createProbeActivities } from '../../activities/probe';
import { createBreakerActivities } from '../../activities/breakers';
import { createDrillActivities } from '../../activities/drill';
import { createInsightsActivities } from '../../activities/insights';
import { createBreakerSignals } from '../../lib/health-registry/breaker-signals';
import { startHealthRegistry, type HealthRegistry } from '../../lib/health-registry/registry';
import { createHealthAwarePicker, createProbePicker } from '../../lib/upstreams/selector';
import { openProbeLeases } from '../../lib/health-registry/probe-leases';
import { breakerTargetsOf } from '../../lib/health-registry/breaker-targets';
import { resolveInsightsWebhookUrl, resolveWebhookUrl, type UpstreamSecrets } from '../../lib/config/load';
import { createLiveConfig, type LiveConfig } from '../../lib/config/live-config';
import { connectClient, temporalConnectionOptions, type TemporalConnectionOptions } from '../../lib/config/temporal-connection';
import type { RuntimeEnv } from '../../lib/config/env';
import { watchFailover, type FailoverWatch } from '../../lib/control/failover';
import type { Logger } from '../../lib/log';
import type { CustomValidator } from '../../lib/validation';
import { createCallMetrics, type CallMetrics } from '../../lib/metrics/call-metrics';
import { registerBreakerMetrics } from '../../lib/metrics/breaker-metrics';
import { registerConfigMetrics } from '../../lib/metrics/config-metrics';
import { startHealthServer } from './health-server';
import { keepSchedulesInLine } from './schedules';
import { logAttempt, logAttemptDetails } from './attempt-log';
import { createCallEventPublisher } from '../../lib/nats/call-events';
import { createOutbox } from '../../lib/nats/outbox';
import { createOutboxMetrics } from '../../lib/metrics/outbox-metrics';
import { ensureStreams } from '../../lib/nats/streams';
import { UpstreamPool } from '../../lib/upstreams/pool';
import type { SwitchboardConfig } from '../../schemas/config';
import type { AttemptInput } from '../../schemas/call';
import { breakerTaskQueue, TASK_QUEUE } from '../../contracts/names';
import { openAttemptJournal } from '../../lib/nats/attempt-journal';
import type { AnswerHandoff } from '../../lib/call/answer-handoff';

export interface SwitchboardWorkerOptions {
  /** The start-up config and its keys; ignored when `live` is given. */
  config: SwitchboardConfig;
  secrets: UpstreamSecrets;
  /** A reloadable config (file or KV watch) this worker follows without a restart. Default: a fixed one of `config` and `secrets`. */
  live?: LiveConfig;
  temporalAddress: string;
  /** TLS / API key of the Temporal connection (Temporal Cloud, an mTLS cluster); default plain. */
  temporalConnection?: TemporalConnectionOptions;
  /** Default `default`. */
  namespace?: string;
  natsUrl: string;
  /** Copies of every stream and bucket the worker creates (`SB_NATS_REPLICAS`). Default 1. */
  natsReplicas?: number;
  /** Default `switchboard`. */
  taskQueue?: string;
  log: Logger;
  /** Pre-bundled workflow code (tests bundle once); default: bundle workflows/index.ts. */
  workflowBundlePath?: string;
  /** KV bucket of the operator switches. Default `sb_control` (tests use their own). */
  controlBucket?: string;
  /** Breaker cluster: scopes the breaker bucket, supervisor ids and CallEvents; default none (production's one cluster). */
  cluster?: string;
  /** Slack-compatible webhook for breaker transitions; default none (off). */
  webhookUrl?: string;
  /** Where the insights job POSTs its report (`insights.webhookUrlEnv`); default none (off). */
  insightsWebhookUrl?: string;
  /** A Temporal connection to share (the gateway's, so its starts can be eager); the caller closes it. Default: a connection of its own. */
  connection?: NativeConnection;
  /** Validators a route's or feature's `validation.validator` may name: text → a reason it is wrong, or null. */
  customValidators?: Record<string, CustomValidator>;
  /** Port of /healthz, /readyz and /metrics; off when undefined. */
  healthPort?: number;
  /** KV bucket of the exact response cache. Default `sb_cache`. */
  cacheBucket?: string;
  /** Extra Temporal worker options (concurrency, identity, ...). */
  workerOptions?: Partial<WorkerOptions>;
  /** Payload codec of its workers and clients (lib/codec: `payloadDataConverter(env)`); `{}` stores payloads in clear. */
  dataConverter: DataConverter;
  /** Shared with a gateway in the same process: answers its eagerly started calls' requests wait for (lib/call/answer-handoff.ts). Default none. */
  answerHandoff?: AnswerHandoff;
}

export interface SwitchboardWorker {
  worker: Worker;
  /** Prometheus metrics of this worker (also served on `healthPort`). */
  metrics: CallMetrics;
  nats: NatsConnection;
  failover: FailoverWatch;
  /** This worker's projection of SB_CALLS and its copy of the breakers. */
  health: HealthRegistry;
  /** The config it serves with (reloads swap it). */
  live: LiveConfig;
  /** Runs until shutdown() (or a fatal error), then closes connections. */
  run(): Promise<void>;
  shutdown(): void;
}

export async function createSwitchboardWorker(options: SwitchboardWorkerOptions): Promise<SwitchboardWorker> {
  const { log } = options;
  const nats = await connectNats({ url: options.natsUrl, name: 'switchboard-worker', replicas: options.natsReplicas ?? 1, reconnectForever: true });
  let connection: NativeConnection | undefined;
  let clientConnection: Connection | undefined;
  let health: HealthRegistry | undefined;
  try {
    await ensureStreams(nats);
    const failover = await watchFailover(nats, (value) => log.warn({ failover: value }, 'failover switch changed'), options.controlBucket);
    const live = options.live ?? createLiveConfig({ config: options.config, secrets: options.secrets });
    // Read at each use, so a reload reaches the next plan, attempt, pick and cache look-up.
    const config = () => live.current();
    const metrics = createCallMetrics();
    // CallEvents and interaction records wait here while NATS is away, instead of being lost.
    const outboxMetrics = createOutboxMetrics(metrics.registry);
    const outbox = createOutbox(nats, { ...live.current().outbox, log, onDropped: outboxMetrics.onDropped });
    outboxMetrics.watch(outbox);
    const publishCallEvent = createCallEventPublisher(outbox);
    const pool = new UpstreamPool(live.current(), live.secrets());
    const temporalOptions = options.temporalConnection ?? temporalConnectionOptions({ address: options.temporalAddress });
    connection = options.connection ?? (await NativeConnection.connect(temporalOptions));
    const temporal = connection;
    const ownsConnection = !options.connection;
    // The registry signals supervisors from outside any workflow, so the worker needs a client of its own.
    clientConnection = await connectClient(temporalOptions);
    const signalConnection = clientConnection;
    const { cluster } = options;
    const taskQueue = options.taskQueue ?? TASK_QUEUE;
    const breakerSignals = createBreakerSignals({
      client: new Client({ connection: clientConnection, namespace: options.namespace ?? 'default', dataConverter: options.dataConverter }),
      taskQueue,
      cluster,
      policy: () => config().breaker,
    });
    const identity = `${process.pid}@${taskQueue}-${Math.random().toString(36).slice(2, 8)}`;
    health = await startHealthRegistry({ nats, config: live.current(), cluster, log, signalTrip: breakerSignals.trip, answerAs: identity });
    const registry = health;
    const leases = await openProbeLeases(nats, cluster);
    const pickHealthy = await createHealthAwarePicker({ nats, cluster, config, pool, view: registry, leases });
    // A reload that cannot build its pool (say a key file vanished) is rejected before anything changes.
    const stopFollowing = live.onReload((next) => {
      const commitPool = pool.prepareReplace(next.config, next.secrets);
      const commitRegistry = registry.prepareReconfigure(next.config);
      return () => {
        commitPool();
        commitRegistry();
      };
    });
    const stopCountingReloads = registerConfigMetrics(metrics.registry, live);
    const journal = await openAttemptJournal(nats, log);
    const attemptActivities = createAttemptActivities({
      journal,
      config,
      pickHealthy,
      pickProbe: createProbePicker({ pool, leases }),
      signalBreaker: breakerSignals.send,
      ...(cluster ? { cluster } : {}),
      publishCallEvent: (event) => {
        metrics.observe(event);
        logAttempt(log, event);
        return publishCallEvent(event);
      },
      nats,
      log,
      ...(options.customValidators ? { customValidators: options.customValidators } : {}),
    });
    registerBreakerMetrics(metrics.registry, { breakers: () => registry.breakers(), targets: () => breakerTargetsOf(config()) });
    // One bundle for both workers below (bundling takes seconds).
    const workflowBundle = options.workflowBundlePath
      ? { codePath: options.workflowBundlePath }
      : await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows/index'), logger: quietBundlerLogger(log) });
    const breakerActivities = {
      ...createBreakerActivities({ nats, log, policy: () => config().breaker, ...(options.webhookUrl ? { webhookUrl: options.webhookUrl } : {}) }),
      // The supervisor's own half-open probe is an ordinary attempt.
      probeUpstream: attemptActivities.probeUpstream,
    };
    // Breaker supervisors poll a queue of their own, so a trip is acted on at once even behind a backlog of calls.
    const breakerWorker = await Worker.create({
      connection,
      namespace: options.namespace ?? 'default',
      taskQueue: breakerTaskQueue(taskQueue),
      dataConverter: options.dataConverter,
      workflowBundle,
      activities: breakerActivities,
      stickyQueueScheduleToStartTimeout: '3 seconds',
    });
    const planActivities = createPlanActivities({ config, pool: () => pool, failover });
    const cacheActivities = createCacheActivities({
      nats,
      log,
      onLookup: metrics.observeCacheLookup,
      embed: async (text, { provider, model, dimensions }) => {
        // The named provider's pool, else the first OpenAI-protocol one: Anthropic has no embeddings API.
        const cfg = config();
        const name = provider ?? Object.entries(cfg.providers).find(([, p]) => p.protocol === 'openai')?.[0];
        const client = name ? pool.upstreams(name, model)[0]?.client : undefined;
        if (!client?.embed) throw new Error(`no embeddings API for the semantic cache (provider ${name ?? 'none'})`);
        const [vector] = await client.embed([text], { model, dimensions, timeoutMs: cfg.timeouts.attemptMs });
        if (!vector) throw new Error('the embeddings API returned no vector');
        return vector;
      },
      ...(options.cacheBucket ? { bucket: options.cacheBucket } : {}),
    });
    const interactionActivities = createInteractionActivities({ nats, outbox, config, log, onCallFinished: metrics.observeCall });
    const attemptCall = async (input: AttemptInput, options?: AttemptOptions) => {
      const result = await attemptActivities.attemptCall(input, options);
      logAttemptDetails(log, input, result);
      return result;
    };
    const worker = await Worker.create({
      connection,
      namespace: options.namespace ?? 'default',
      taskQueue,
      dataConverter: options.dataConverter,
      workflowBundle,
      activities: {
        ...planActivities,
        ...attemptActivities,
        attemptCall,
        // Also here: supervisors started on the calls' queue before it had a queue of its own schedule them here.
        ...breakerActivities,
        ...cacheActivities,
        ...interactionActivities,
        // The call's steps: answerCall (a top-level call's happy path in one local activity), prepareCall and finishCall.
        ...createCallStepActivities({
          ...planActivities,
          ...cacheActivities,
          ...interactionActivities,
          attemptCall,
          ...(options.answerHandoff ? { handoff: options.answerHandoff } : {}),
        }),
        ...createProbeActivities({ nats }),
        ...createJsonCheckActivities(),
        ...createInsightsActivities({ nats, config, log, ...(options.insightsWebhookUrl ? { webhookUrl: options.insightsWebhookUrl } : {}) }),
        ...createDrillActivities({ config, pool: () => pool, nats, log, ...(cluster ? { cluster } : {}), onReport: metrics.observeDrill }),
      },
      // A crashed worker's workflow tasks move to the shared queue after this (SDK default 10 s).
      stickyQueueScheduleToStartTimeout: '3 seconds',
      // A call this code cannot replay (started by a release with other steps) fails at once; its task is not retried
      // until the deadline nobody enforces any more. Long-lived workflows keep the default: a fixed release continues them.
      workflowFailureErrorTypes: { '*': [], llmCall: ['NondeterminismError'] },
      ...options.workerOptions,
    });
    // The drill and insights Schedules follow the config (idempotent; at start and on reload).
    const stopSyncingSchedules = await keepSchedulesInLine({
      client: new Client({ connection: clientConnection, namespace: options.namespace ?? 'default', dataConverter: options.dataConverter }),
      taskQueue,
      live,
      log,
    });
    const healthServer =
      options.healthPort !== undefined
        ? await startHealthServer({
            port: options.healthPort,
            registry: metrics.registry,
            isReady: () => worker.getState() === 'RUNNING' && breakerWorker.getState() === 'RUNNING' && !nats.isClosed(),
          })
        : undefined;
    return {
      worker,
      metrics,
      nats,
      failover,
      health: registry,
      live,
      async run() {
        try {
          // Either worker stopping (shutdown or a fatal error) stops the other.
          const stopBoth = () => {
            for (const w of [worker, breakerWorker]) if (w.getState() === 'RUNNING') w.shutdown();
          };
          await Promise.all([worker.run(), breakerWorker.run()].map((running) => running.finally(stopBoth)));
        } finally {
          stopFollowing();
          stopCountingReloads();
          stopSyncingSchedules();
          healthServer?.close();
          await failover.close().catch(() => undefined);
          await registry.close().catch(() => undefined);
          await signalConnection.close().catch(() => undefined);
          await outbox.close().catch(() => undefined);
          await nats.drain().catch(() => undefined);
          if (ownsConnection) await temporal.close().catch(() => undefined);
        }
      },
      shutdown: () => {
        for (const w of [worker, breakerWorker]) if (w.getState() === 'RUNNING') w.shutdown();
      },
    };
  } catch (error) {
    await health?.close().catch(() => undefined);
    await clientConnection?.close().catch(() => undefined);
    if (!options.connection) await connection?.close().catch(() => undefined);
    await nats.close();
    throw error;
  }
}

/**
 * The options every worker process builds from its environment: the worker
 * service itself and the gateway's in-process worker (which adds its shared
 * connection). Reads the webhook URL from `processEnv` only here; the keys
 * come with the live config.
 */
/** Everything but the payload codec, which the process builds once (lib/codec) and shares with its clients. */
export function workerOptionsFromEnv(
  env: RuntimeEnv,
  live: LiveConfig,
  log: Logger,
  processEnv: NodeJS.ProcessEnv,
): Omit<SwitchboardWorkerOptions, 'dataConverter'> {
  const config = live.current();
  const webhookUrl = resolveWebhookUrl(config, processEnv);
  const insightsWebhookUrl = resolveInsightsWebhookUrl(config, processEnv);
  return {
    config,
    secrets: live.secrets(),
    live,
    temporalAddress: env.TEMPORAL_ADDRESS,
    temporalConnection: temporalConnectionOptions({ address: env.TEMPORAL_ADDRESS, env }),
    namespace: env.TEMPORAL_NAMESPACE,
    natsUrl: env.NATS_URL,
    natsReplicas: env.SB_NATS_REPLICAS,
    taskQueue: env.SB_TASK_QUEUE,
    log,
    controlBucket: env.SB_CONTROL_BUCKET,
    ...(env.SB_CLUSTER ? { cluster: env.SB_CLUSTER } : {}),
    ...(webhookUrl ? { webhookUrl } : {}),
    ...(insightsWebhookUrl ? { insightsWebhookUrl } : {}),
    ...(env.SB_WORKFLOW_BUNDLE ? { workflowBundlePath: env.SB_WORKFLOW_BUNDLE } : {}),
  };
}

/** The bundler's output, at debug level: it is noisy and says nothing an operator needs. */
function quietBundlerLogger(log: Logger) {
  return {
    log: () => undefined,
    trace: () => undefined,
    debug: () => undefined,
    info: () => undefined,
    warn: (message: string) => log.warn({ component: 'workflow-bundler' }, message),
    error: (message: string) => log.error({ component: 'workflow-bundler' }, message),
  };
}
