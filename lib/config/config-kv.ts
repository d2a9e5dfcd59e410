/**
 * A cluster-wide config in NATS KV: `switchboard config push <file>`
 * validates a document and writes it to key `document` of the bucket named by
 * SB_CONFIG_BUCKET; every worker and gateway with that variable watches the
 * key and reloads, so one command updates every pod. The document holds no
 * secrets (keys stay in each pod's environment or key files), and each pod
 * still validates it and resolves its keys, rejecting what it cannot serve.
 */
import { JSONCodec, type KV, type NatsConnection } from 'nats';
import { parse as parseYaml } from 'yaml';
import type { Logger } from '../log';
import { openBucket } from '../nats/kv';
import type { LiveConfig, LoadedConfig } from './live-config';
import { ConfigError, parseConfig } from './load';

const CONFIG_DOCUMENT_KEY = 'document';
const codec = JSONCodec<unknown>();

/** Where a pushed document came from, for logs and `source` labels. */
export function configKvSource(bucket: string): string {
  return `kv:${bucket}/${CONFIG_DOCUMENT_KEY}`;
}

/**
 * Validates `text` (YAML or JSON) and writes it as the cluster's config;
 * returns the KV revision. The stored value is the document as written (not
 * the parsed result), so each pod applies its own schema defaults.
 */
export async function pushConfigDocument(
  nats: NatsConnection,
  bucket: string,
  text: string,
  origin: string,
  env: Readonly<Record<string, string | undefined>> = {},
): Promise<number> {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new ConfigError(`${origin} is not valid YAML or JSON: ${(error as Error).message}`);
  }
  // Checked with the pusher's environment; `${NAME}` references are stored as written and each pod expands its own.
  parseConfig(raw, origin, env);
  const kv = await openBucket(nats, bucket);
  return kv.put(CONFIG_DOCUMENT_KEY, codec.encode(raw));
}

/** The document stored now and its revision; undefined when nothing was pushed. */
export async function readConfigDocument(kv: KV): Promise<{ document: unknown; revision: number } | undefined> {
  const entry = await kv.get(CONFIG_DOCUMENT_KEY);
  return entry && entry.operation === 'PUT' ? { document: codec.decode(entry.value), revision: entry.revision } : undefined;
}

export interface ConfigBucketWatch {
  /** The newest document applied (or found at start); undefined when none. */
  document(): unknown;
  close(): Promise<void>;
}

/**
 * Follows the bucket's document after revision `initial.revision`: each new
 * revision is offered to `live` through `load` (which parses it and resolves
 * this pod's keys). A rejected document leaves the current config serving, as
 * a bad file does.
 */
export async function watchConfigBucket(options: {
  kv: KV;
  bucket: string;
  initial: { document: unknown; revision: number } | undefined;
  live: LiveConfig;
  load: (document: unknown, source: string) => LoadedConfig;
  log: Logger;
}): Promise<ConfigBucketWatch> {
  const { kv, live, load, log } = options;
  let applied = options.initial?.document;
  let lastRevision = options.initial?.revision ?? 0;
  const watcher = await kv.watch({ key: CONFIG_DOCUMENT_KEY });
  void (async () => {
    for await (const entry of watcher) {
      // The watch replays the current value first: the one this pod started with is not news.
      if (entry.operation !== 'PUT' || entry.revision <= lastRevision) continue;
      lastRevision = entry.revision;
      const source = `${configKvSource(options.bucket)}@${entry.revision}`;
      let document: unknown;
      try {
        document = codec.decode(entry.value);
      } catch {
        log.warn({ configSource: source }, 'config rejected: the pushed document is not JSON');
        continue;
      }
      if (live.reload(() => load(document, source), source).result === 'applied') applied = document;
    }
  })();
  return {
    document: () => applied,
    close: async () => watcher.stop(),
  };
}
