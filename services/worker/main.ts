/**
 * `npm run worker`: a Switchboard worker process. Reads SB_CONFIG, the API
 * keys it names, TEMPORAL_ADDRESS and NATS_URL; drains on SIGTERM/SIGINT
 * (in-flight activities finish, then it exits).
 */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { isConfigError, loadConfigFile } from '../../lib/config/load';
import { readRuntimeEnv } from '../../lib/config/env';
import { createLogger } from '../../lib/log';
import { createSwitchboardWorker, workerOptionsFromEnv } from './worker';

async function main(): Promise<void> {
  const env = readRuntimeEnv();
  const log = createLogger({ level: env.LOG_LEVEL, name: 'switchboard-worker' });
  const config = loadConfigFile(env.SB_CONFIG);
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const sb = await createSwitchboardWorker({
    ...workerOptionsFromEnv(env, config, log, process.env),
    ...(env.SB_HEALTH_PORT !== undefined ? { healthPort: env.SB_HEALTH_PORT } : {}),
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      log.info({ signal }, 'draining: finishing in-flight work, then exiting');
      sb.shutdown();
    });
  }
  log.info({ taskQueue: env.SB_TASK_QUEUE, temporal: env.TEMPORAL_ADDRESS, nats: env.NATS_URL, routes: Object.keys(config.routes) }, 'worker started');
  await sb.run();
  log.info('worker stopped');
}

main().catch((error: unknown) => {
  // A bad config stops start-up with the field's name; nothing else is printed as a stack.
  console.error(`switchboard worker: ${isConfigError(error) ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
