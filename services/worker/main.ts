/**
 * `npm run worker`: a Switchboard worker process. Reads SB_CONFIG, the API
 * keys it names, TEMPORAL_ADDRESS (and its TLS / API key variables) and
 * NATS_URL; follows SB_CONFIG and its key files without a restart (a bad
 * change is rejected, the old config keeps serving); drains on SIGTERM/SIGINT
 * (in-flight activities finish, then it exits).
 */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { isConfigError } from '../../lib/config/load';
import { loadProcessConfig } from '../../lib/config/process-config';
import { describeTemporalConnection, temporalConnectionOptions } from '../../lib/config/temporal-connection';
import { payloadDataConverter } from '../../lib/codec';
import { readRuntimeEnv } from '../../lib/config/env';
import { createLogger } from '../../lib/log';
import { createSwitchboardWorker, workerOptionsFromEnv } from './worker';
import { describeNatsUrl } from '../../lib/nats/connect';

async function main(): Promise<void> {
  const env = readRuntimeEnv();
  // Keys first: a missing or malformed one stops start-up naming the variable.
  const dataConverter = payloadDataConverter(env);
  const log = createLogger({ level: env.LOG_LEVEL ?? 'info', name: 'switchboard-worker' });
  const processConfig = await loadProcessConfig(env, process.env, log);
  const config = processConfig.live.current();
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const sb = await createSwitchboardWorker({
    ...workerOptionsFromEnv(env, processConfig.live, log, process.env),
    dataConverter,
    ...(env.SB_HEALTH_PORT !== undefined ? { healthPort: env.SB_HEALTH_PORT } : {}),
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      log.info({ signal }, 'draining: finishing in-flight work, then exiting');
      sb.shutdown();
    });
  }
  log.info(
    {
      taskQueue: env.SB_TASK_QUEUE,
      temporal: describeTemporalConnection(temporalConnectionOptions({ address: env.TEMPORAL_ADDRESS, env })),
      nats: describeNatsUrl(env.NATS_URL),
      routes: Object.keys(config.routes),
    },
    'worker started',
  );
  await sb.run();
  await processConfig.close();
  log.info('worker stopped');
}

main().catch((error: unknown) => {
  // A bad config stops start-up with the field's name; nothing else is printed as a stack.
  console.error(`switchboard worker: ${isConfigError(error) ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
