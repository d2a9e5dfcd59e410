/**
 * The live config of a worker or gateway process: loaded at start-up (a bad
 * config stops start-up naming the field), then followed — the SB_CONFIG file
 * and its key files, and, when SB_CONFIG_BUCKET is set, the document pushed
 * to that KV bucket (which then wins over the file) — with the log level
 * following `logging.verbosity` unless LOG_LEVEL pins it.
 */
import type { NatsConnection } from 'nats';
import { connectNats } from '../nats/connect';
import type { Logger } from '../log';
import { levelForVerbosity } from '../log';
import { openBucket } from '../nats/kv';
import { configKvSource, readConfigDocument, watchConfigBucket, type ConfigBucketWatch } from './config-kv';
import { watchConfigFile } from './config-file-watch';
import type { RuntimeEnv } from './env';
import { createLiveConfig, type LiveConfig, type LoadedConfig } from './live-config';
import { loadConfigFile, parseConfig, resolveSecrets } from './load';

export interface ProcessConfig {
  live: LiveConfig;
  /** Stops following changes. */
  close(): Promise<void>;
}

export async function loadProcessConfig(env: RuntimeEnv, processEnv: NodeJS.ProcessEnv, log: Logger): Promise<ProcessConfig> {
  const fromDocument = (document: unknown, source: string): LoadedConfig => {
    const config = parseConfig(document, source, processEnv);
    return { config, secrets: resolveSecrets(config, processEnv) };
  };
  const fromFile = (): LoadedConfig => {
    const config = loadConfigFile(env.SB_CONFIG, processEnv);
    return { config, secrets: resolveSecrets(config, processEnv) };
  };

  let nats: NatsConnection | undefined;
  let bucketWatch: ConfigBucketWatch | undefined;
  let initial: LoadedConfig;
  let stored: Awaited<ReturnType<typeof readConfigDocument>>;
  const bucket = env.SB_CONFIG_BUCKET;
  if (bucket) {
    nats = await connectNats({ url: env.NATS_URL, name: 'switchboard-config', replicas: env.SB_NATS_REPLICAS, reconnectForever: true });
    stored = await readConfigDocument(await openBucket(nats, bucket));
    initial = stored ? fromDocument(stored.document, configKvSource(bucket)) : fromFile();
  } else {
    initial = fromFile();
  }
  // With a bucket, a change of the file or of a key file re-reads the keys for the pushed document.
  const load = (): LoadedConfig => {
    const document = bucketWatch?.document();
    return document !== undefined && bucket ? fromDocument(document, configKvSource(bucket)) : fromFile();
  };

  const live = createLiveConfig(initial, log);
  if (env.LOG_LEVEL === undefined) {
    log.level = levelForVerbosity(live.current().logging.verbosity);
    live.onReload((next) => () => {
      log.level = levelForVerbosity(next.config.logging.verbosity);
    });
  }
  if (nats && bucket) bucketWatch = await watchConfigBucket({ kv: await openBucket(nats, bucket), bucket, initial: stored, live, load: fromDocument, log });
  const fileWatch = watchConfigFile({ path: env.SB_CONFIG, live, load, log, pollMs: env.SB_CONFIG_POLL_MS });
  return {
    live,
    async close() {
      fileWatch.close();
      await bucketWatch?.close();
      await nats?.drain().catch(() => undefined);
    },
  };
}
