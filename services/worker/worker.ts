/**
 * A Switchboard worker: Temporal worker on the switchboard task queue with
 * the llmCall workflow, its activities, and their live dependencies (NATS,
 * the upstream pool, the failover watch). Used by services/worker/main.ts,
 * the demo and the tests.
 */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { connect, type NatsConnection } from 'nats';
import { createAttemptActivities } from '../../activities/attempts';
import { createPlanActivities } from '../../activities/plan';
import { createProbeActivities } from '../../activities/probe';
import type { UpstreamSecrets } from '../../lib/config/load';
import { watchFailover, type FailoverWatch } from '../../lib/control/failover';
import type { Logger } from '../../lib/log';
import { createCallEventPublisher } from '../../lib/nats/call-events';
import { ensureStreams } from '../../lib/nats/streams';
import { UpstreamPool } from '../../lib/routing/upstream-pool';
import type { SwitchboardConfig } from '../../schemas/config';
import { TASK_QUEUE } from '../../workflows/definitions';

export interface SwitchboardWorkerOptions {
  config: SwitchboardConfig;
  secrets: UpstreamSecrets;
  temporalAddress: string;
  /** Default `default`. */
  namespace?: string;
  natsUrl: string;
  /** Default `switchboard`. */
  taskQueue?: string;
  log: Logger;
  /** Pre-bundled workflow code (tests bundle once); default: bundle workflows/index.ts. */
  workflowBundlePath?: string;
  /** KV bucket of the operator switches. Default `sb_control` (tests use their own). */
  controlBucket?: string;
  /** Extra Temporal worker options (concurrency, identity, ...). */
  workerOptions?: Partial<WorkerOptions>;
}

export interface SwitchboardWorker {
  worker: Worker;
  nats: NatsConnection;
  failover: FailoverWatch;
  /** Runs until shutdown() (or a fatal error), then closes connections. */
  run(): Promise<void>;
  shutdown(): void;
}

export async function createSwitchboardWorker(options: SwitchboardWorkerOptions): Promise<SwitchboardWorker> {
  const { log } = options;
  const nats = await connect({ servers: options.natsUrl, name: 'switchboard-worker', maxReconnectAttempts: -1 });
  let connection: NativeConnection | undefined;
  try {
    await ensureStreams(nats);
    const failover = await watchFailover(nats, (value) => log.warn({ failover: value }, 'failover switch changed'), options.controlBucket);
    const config = options.config;
    const pool = new UpstreamPool(config, options.secrets);
    connection = await NativeConnection.connect({ address: options.temporalAddress });
    const temporal = connection;
    const worker = await Worker.create({
      connection,
      namespace: options.namespace ?? 'default',
      taskQueue: options.taskQueue ?? TASK_QUEUE,
      ...(options.workflowBundlePath
        ? { workflowBundle: { codePath: options.workflowBundlePath } }
        : { workflowsPath: require.resolve('../../workflows/index') }),
      activities: {
        ...createPlanActivities({ config: () => config, pool: () => pool, failover }),
        ...createAttemptActivities({ config: () => config, pool: () => pool, publishCallEvent: createCallEventPublisher(nats), nats, log }),
        ...createProbeActivities({ nats }),
      },
      // A crashed worker's workflow tasks move to the shared queue after this (SDK default 10 s).
      stickyQueueScheduleToStartTimeout: '3 seconds',
      ...options.workerOptions,
    });
    return {
      worker,
      nats,
      failover,
      async run() {
        try {
          await worker.run();
        } finally {
          await failover.close().catch(() => undefined);
          await nats.drain().catch(() => undefined);
          await temporal.close().catch(() => undefined);
        }
      },
      shutdown: () => worker.shutdown(),
    };
  } catch (error) {
    await connection?.close().catch(() => undefined);
    await nats.close();
    throw error;
  }
}
