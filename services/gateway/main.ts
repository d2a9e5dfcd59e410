/**
 * `npm run gateway`: the HTTP gateway process. Reads SB_CONFIG (its
 * `gateway` section), TEMPORAL_ADDRESS, NATS_URL, SB_GATEWAY_PORT/HOST. With
 * SB_GATEWAY_WORKER=true (default) it also runs a Switchboard worker on the
 * same Temporal connection, so workflow starts are eager (the first workflow
 * task comes back in the start response, saving a poll round trip), and —
 * unless SB_ANSWER_HANDOFF=false — an answer got at once goes to its request
 * straight from that worker (lib/call/answer-handoff.ts). On
 * SIGTERM/SIGINT it stops accepting, finishes in-flight requests, drains the
 * worker, then exits.
 */
import { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { connectNats } from '../../lib/nats/connect';
import { dataConverterOf, payloadKeyringOf } from '../../lib/codec';
import { readRuntimeEnv } from '../../lib/config/env';
import { isConfigError } from '../../lib/config/load';
import { loadProcessConfig } from '../../lib/config/process-config';
import { describeTemporalConnection, temporalConnectionOptions } from '../../lib/config/temporal-connection';
import { createLogger } from '../../lib/log';
import { createAnswerHandoff } from '../../lib/call/answer-handoff';
import { createSwitchboardWorker, type SwitchboardWorker, workerOptionsFromEnv } from '../worker/worker';
import { createGateway } from './server';

async function main(): Promise<void> {
  const env = readRuntimeEnv();
  // Keys first: a missing or malformed one stops start-up naming the variable. One keyring for the client, the worker and the codec server.
  const keyring = payloadKeyringOf(env);
  const dataConverter = dataConverterOf(keyring);
  const log = createLogger({ level: env.LOG_LEVEL ?? 'info', name: 'switchboard-gateway' });
  // One live config for the gateway and its in-process worker: a reload reaches both.
  const processConfig = await loadProcessConfig(env, process.env, log);
  const { live } = processConfig;
  const config = live.current();
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const temporalOptions = temporalConnectionOptions({ address: env.TEMPORAL_ADDRESS, env });
  const connection = await NativeConnection.connect(temporalOptions);
  const client = new Client({ connection, namespace: env.TEMPORAL_NAMESPACE, dataConverter });
  const nats = await connectNats({ url: env.NATS_URL, name: 'switchboard-gateway', replicas: env.SB_NATS_REPLICAS, reconnectForever: true });
  let worker: { sb: SwitchboardWorker; running: Promise<void> } | undefined;
  // The in-process worker hands the answers of calls started here to their requests without a trip through Temporal.
  const answerHandoff = env.SB_GATEWAY_WORKER && env.SB_ANSWER_HANDOFF ? createAnswerHandoff() : undefined;
  if (env.SB_GATEWAY_WORKER) {
    const sb = await createSwitchboardWorker({ ...workerOptionsFromEnv(env, live, log, process.env), connection, dataConverter, answerHandoff });
    worker = { sb, running: sb.run() };
  }
  const codecServer =
    keyring && env.SB_CODEC_TOKEN
      ? {
          keyring,
          token: env.SB_CODEC_TOKEN,
          corsOrigins: (env.SB_CODEC_CORS_ORIGINS ?? '')
            .split(',')
            .map((o) => o.trim())
            .filter(Boolean),
        }
      : undefined;
  const gateway = await createGateway({
    config,
    live,
    client,
    nats,
    taskQueue: env.SB_TASK_QUEUE,
    eagerStart: env.SB_GATEWAY_WORKER,
    ...(answerHandoff ? { answerHandoff } : {}),
    log,
    ...(codecServer ? { codecServer } : {}),
  });
  const url = await gateway.listen(env.SB_GATEWAY_PORT, env.SB_GATEWAY_HOST);
  log.info(
    {
      url,
      temporal: describeTemporalConnection(temporalOptions),
      taskQueue: env.SB_TASK_QUEUE,
      inProcessWorker: env.SB_GATEWAY_WORKER,
      answerHandoff: Boolean(answerHandoff),
      payloadCodec: keyring ? `aes-256-gcm (write key ${keyring.writeKeyId})` : 'off',
      codecServer: Boolean(codecServer),
      tenants: config.gateway.tenants.map((t) => t.id),
    },
    'gateway listening',
  );

  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'draining: no new requests, finishing in-flight ones');
      void (async () => {
        await gateway.close();
        await processConfig.close();
        if (worker) {
          worker.sb.shutdown();
          await worker.running.catch(() => undefined);
        }
        await nats.drain().catch(() => undefined);
        await connection.close().catch(() => undefined);
        log.info('gateway stopped');
        process.exit(0);
      })();
    });
  }
}

main().catch((error: unknown) => {
  console.error(`switchboard gateway: ${isConfigError(error) ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
