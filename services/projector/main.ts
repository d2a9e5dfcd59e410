/**
 * `npm run projector`: copies interaction records and feedback from
 * JetStream into PostgreSQL (lib/interactions/postgres-projector.ts), as a
 * process of its own — so PostgreSQL's availability and connection count
 * never touch the workers. Reads SB_CONFIG (`interactions.postgres` must be
 * enabled), the URL variable it names (default SB_POSTGRES_URL), NATS_URL,
 * LOG_LEVEL, SB_HEALTH_PORT (/healthz, /readyz, /metrics). Stops cleanly on
 * SIGTERM/SIGINT: a batch not yet committed is handed back to JetStream.
 *
 * `npm run projector -- --print-schema` prints the migrations as SQL and exits.
 */
import { connectNats, describeNatsUrl } from '../../lib/nats/connect';
import { isConfigError, loadConfigFile, ConfigError } from '../../lib/config/load';
import { readRuntimeEnv } from '../../lib/config/env';
import { createProjectionPool, describePostgresUrl, postgresUrlSecrets, resolvePostgresUrl } from '../../lib/interactions/postgres-connection';
import { schemaScript } from '../../lib/interactions/postgres-migrations';
import { startPostgresProjector } from '../../lib/interactions/postgres-projector';
import { createLogger } from '../../lib/log';
import { startHealthServer } from '../worker/health-server';
import { createProjectorMetrics } from './metrics';

async function main(): Promise<void> {
  if (process.argv.includes('--print-schema')) {
    process.stdout.write(schemaScript());
    return;
  }
  const env = readRuntimeEnv();
  const log = createLogger({ level: env.LOG_LEVEL, name: 'switchboard-projector' });
  const config = loadConfigFile(env.SB_CONFIG, process.env);
  const settings = config.interactions.postgres;
  if (!settings.enabled) {
    throw new ConfigError(`${env.SB_CONFIG}: interactions.postgres.enabled is false — set it to true to project interactions into PostgreSQL`);
  }
  const url = resolvePostgresUrl(settings, process.env);
  const pool = createProjectionPool({ url, log });
  const nats = await connectNats({ url: env.NATS_URL, name: 'switchboard-projector', replicas: env.SB_NATS_REPLICAS, reconnectForever: true });
  const projector = await startPostgresProjector({ nats, pool, config: settings, log, secrets: postgresUrlSecrets(url) });
  const health =
    env.SB_HEALTH_PORT === undefined
      ? undefined
      : await startHealthServer({
          port: env.SB_HEALTH_PORT,
          registry: createProjectorMetrics(projector.stats),
          isReady: () => !nats.isClosed() && projector.stats().databaseUp,
        });
  log.info({ postgres: describePostgresUrl(url), nats: describeNatsUrl(env.NATS_URL), consumer: settings.consumer }, 'projector running');

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await projector.stop();
      await pool.end().catch(() => undefined);
      await nats.drain().catch(() => undefined);
      await new Promise((resolve) => (health ? health.close(resolve) : resolve(undefined)));
    })());
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      log.info({ signal }, 'stopping: un-committed batches go back to JetStream');
      void stop().then(() => log.info('projector stopped'));
    });
  }
  // A consumer that died leaves its stream unprojected: exit so the supervisor restarts us.
  await projector.done.catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  await stopping;
}

main().catch((error: unknown) => {
  // Never the URL: errors here name variables and fields, not values.
  console.error(`switchboard projector: ${isConfigError(error) ? error.message : error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
