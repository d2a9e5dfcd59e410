import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { SwitchboardConfig, upstreamId } from '../../schemas/config';
import { withoutPrototypes } from './null-prototype';
import { expandEnvReferences, isUnsetReferenceError } from './env-references';

/** A configuration that cannot be used; the message names the file and the field. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function isConfigError(error: unknown): error is ConfigError {
  return error instanceof Error && error.name === 'ConfigError';
}

/** `routes.chat-default.entries[1].provider: unknown provider "anthropc"` */
export function describeZodIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), '');
      return `${path || '(root)'}: ${issue.message}`;
    })
    .join('\n  ');
}

/**
 * Validates an already-parsed document after replacing `${NAME}` /
 * `${NAME:-default}` in its string values from `env` (lib/config/env-references.ts).
 */
export function parseConfig(raw: unknown, source = 'config', env: Readonly<Record<string, string | undefined>> = {}): SwitchboardConfig {
  let expanded: unknown;
  try {
    expanded = expandEnvReferences(raw, env);
  } catch (error) {
    if (isUnsetReferenceError(error)) throw new ConfigError(`${source} is invalid:\n  ${error.message}`);
    throw error;
  }
  const parsed = SwitchboardConfig.safeParse(expanded);
  if (!parsed.success) throw new ConfigError(`${source} is invalid:\n  ${describeZodIssues(parsed.error)}`);
  return withoutPrototypes(parsed.data);
}

/** Reads a YAML or JSON file (YAML is a superset of JSON), expands its `${NAME}` references from `env` and validates it. */
export function loadConfigFile(path: string, env: Readonly<Record<string, string | undefined>> = {}): SwitchboardConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new ConfigError(`${path} is not valid YAML or JSON: ${(error as Error).message}`);
  }
  return parseConfig(raw, path, env);
}

/** API keys by upstream id. Kept apart from the config so logging a config never logs a key. */
export type UpstreamSecrets = ReadonlyMap<string, string>;

/**
 * Reads every upstream's key: from its environment variable (`apiKeyEnv`) or
 * its file (`apiKeyFile`, trailing newline dropped; read again on each reload,
 * so a rotated Kubernetes Secret takes effect). The error names each missing
 * variable or unreadable file, never a key.
 */
export function resolveSecrets(config: SwitchboardConfig, env: NodeJS.ProcessEnv): UpstreamSecrets {
  const secrets = new Map<string, string>();
  const missing: string[] = [];
  for (const [provider, p] of Object.entries(config.providers)) {
    p.upstreams.forEach((upstream) => {
      const where = `providers.${provider}.upstreams: ${upstream.name}`;
      if (upstream.apiKeyFile !== undefined) {
        const value = readKeyFile(upstream.apiKeyFile);
        if (value === undefined) missing.push(`${upstream.apiKeyFile} (${where}, apiKeyFile): cannot be read or is empty`);
        else secrets.set(upstreamId(provider, upstream.name), value);
        return;
      }
      const value = upstream.apiKeyEnv ? env[upstream.apiKeyEnv] : undefined;
      if (!value) missing.push(`${upstream.apiKeyEnv ?? '(none)'} (${where})`);
      else secrets.set(upstreamId(provider, upstream.name), value);
    });
  }
  if (missing.length) throw new ConfigError(`missing API keys:\n  ${missing.join('\n  ')}`);
  return secrets;
}

function readKeyFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim() || undefined;
  } catch {
    // The error text of a failed read holds only the path, but we say it ourselves to be sure.
    return undefined;
  }
}

/**
 * A webhook URL from the environment variable a config field names (URLs of
 * incoming webhooks carry a secret, so they never live in the file);
 * undefined when the field is unset (the webhook is off).
 */
function webhookUrlFromEnv(name: string | undefined, field: string, env: NodeJS.ProcessEnv): string | undefined {
  if (!name) return undefined;
  const value = env[name];
  if (!value) throw new ConfigError(`missing ${name} in the environment (${field})`);
  return value;
}

/** The breaker webhook URL (`notifications.webhookUrlEnv`); undefined when off. */
export function resolveWebhookUrl(config: SwitchboardConfig, env: NodeJS.ProcessEnv): string | undefined {
  return webhookUrlFromEnv(config.notifications.webhookUrlEnv, 'notifications.webhookUrlEnv', env);
}

/** Where the insights job posts its report (`insights.webhookUrlEnv`); undefined when off. */
export function resolveInsightsWebhookUrl(config: SwitchboardConfig, env: NodeJS.ProcessEnv): string | undefined {
  return webhookUrlFromEnv(config.insights.webhookUrlEnv, 'insights.webhookUrlEnv', env);
}
