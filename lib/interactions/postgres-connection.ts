/**
 * The projection's PostgreSQL connection: the URL only from the environment
 * variable the config names (it carries the password), a form of it safe to
 * log, and a pool whose background errors are logged without the secret.
 */
import { Pool } from 'pg';
import { ConfigError } from '../config/load';
import type { Logger } from '../log';
import type { PostgresProjectionConfig } from '../../schemas/interaction-store';

/** Reads the URL from `urlEnv`; the error names the variable, never its value. */
export function resolvePostgresUrl(config: PostgresProjectionConfig, env: NodeJS.ProcessEnv): string {
  const value = env[config.urlEnv];
  if (!value) throw new ConfigError(`missing ${config.urlEnv} in the environment (interactions.postgres.urlEnv): the PostgreSQL URL`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${config.urlEnv} is not a URL (expected postgres://user:password@host:5432/database)`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError(`${config.urlEnv} must start with postgres:// or postgresql:// (interactions.postgres.urlEnv)`);
  }
  return value;
}

/** The URL's password, raw and decoded: what must never reach a log line. */
export function postgresUrlSecrets(url: string): string[] {
  const password = new URL(url).password;
  if (!password) return [];
  return [...new Set([password, decodeURIComponent(password)])];
}

/** `postgres://user@host:port/database`, without the password or query options. */
export function describePostgresUrl(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.username ? `${decodeURIComponent(u.username)}@` : ''}${u.host}${u.pathname}`;
}

export interface ProjectionPoolOptions {
  url: string;
  log: Logger;
  /** Default 3: one connection per consumer, one spare. */
  max?: number;
}

export function createProjectionPool({ url, log, max = 3 }: ProjectionPoolOptions): Pool {
  const secrets = postgresUrlSecrets(url);
  const pool = new Pool({ connectionString: url, max, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 30_000, application_name: 'switchboard-projector' });
  // An idle connection dropped by the server (restart, failover) surfaces here; unhandled it would kill the process.
  pool.on('error', (error) => {
    let text = error.message;
    for (const secret of secrets) text = text.replaceAll(secret, '[redacted]');
    log.warn({ error: text }, 'PostgreSQL connection lost (the next write reconnects)');
  });
  return pool;
}
