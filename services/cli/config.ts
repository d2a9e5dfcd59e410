/**
 * `switchboard config check <file>` validates a config file (and, with
 * --keys, that this environment holds every key it names);
 * `switchboard config push <file>` validates it and writes it to the KV
 * bucket SB_CONFIG_BUCKET, which every worker and gateway started with the
 * same variable follows: one command reconfigures the whole cluster. Each pod
 * still validates the document and resolves its own keys, rejecting (and
 * logging, and counting in `sb_config_reloads_total{result="rejected"}`) what
 * it cannot serve while its current config keeps serving.
 */
import { readFileSync } from 'node:fs';
import { connectNats } from '../../lib/nats/connect';
import { pushConfigDocument } from '../../lib/config/config-kv';
import type { RuntimeEnv } from '../../lib/config/env';
import { ConfigError, loadConfigFile, resolveSecrets } from '../../lib/config/load';
import { upstreamId } from '../../schemas/config';
import { CliUsageError } from './commands';

export interface ConfigCommandContext {
  env: RuntimeEnv;
  json: boolean;
  /** Also resolve every key from this process's environment and key files. */
  keys: boolean;
  print(line: string): void;
}

export async function runConfig(ctx: ConfigCommandContext, args: readonly string[]): Promise<void> {
  const [action, file] = args;
  if ((action !== 'check' && action !== 'push') || !file) throw new CliUsageError('config needs check|push and a file');
  const config = loadConfigFile(file, process.env);
  if (ctx.keys) resolveSecrets(config, process.env);
  const upstreams = Object.entries(config.providers).flatMap(([provider, p]) => p.upstreams.map((u) => upstreamId(provider, u.name)));
  if (action === 'check') {
    ctx.print(
      ctx.json
        ? JSON.stringify({ file, valid: true, routes: Object.keys(config.routes), upstreams })
        : `${file}: valid (${Object.keys(config.routes).length} routes, ${upstreams.length} upstreams)`,
    );
    return;
  }
  const bucket = ctx.env.SB_CONFIG_BUCKET;
  if (!bucket)
    throw new ConfigError('SB_CONFIG_BUCKET is not set: name the bucket your workers and gateways follow (docs/deploy.md, "Config without restarts")');
  const nats = await connectNats({ url: ctx.env.NATS_URL, name: 'switchboard-cli', replicas: ctx.env.SB_NATS_REPLICAS });
  try {
    const revision = await pushConfigDocument(nats, bucket, readFileSync(file, 'utf8'), file, process.env);
    ctx.print(
      ctx.json
        ? JSON.stringify({ file, bucket, revision, upstreams })
        : `${file} pushed to ${bucket} (revision ${revision}); pods reload it now — watch sb_config_reloads_total`,
    );
  } finally {
    await nats.drain().catch(() => undefined);
  }
}
