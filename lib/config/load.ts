import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { SwitchboardConfig, upstreamId } from '../../schemas/config';

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

/** Validates an already-parsed document. */
export function parseConfig(raw: unknown, source = 'config'): SwitchboardConfig {
  const parsed = SwitchboardConfig.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`${source} is invalid:\n  ${describeZodIssues(parsed.error)}`);
  return parsed.data;
}

/** Reads a YAML or JSON file (YAML is a superset of JSON) and validates it. */
export function loadConfigFile(path: string): SwitchboardConfig {
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
  return parseConfig(raw, path);
}

/** API keys by upstream id. Kept apart from the config so logging a config never logs a key. */
export type UpstreamSecrets = ReadonlyMap<string, string>;

/** Reads every upstream's key from the environment; the error names each missing variable. */
export function resolveSecrets(config: SwitchboardConfig, env: NodeJS.ProcessEnv): UpstreamSecrets {
  const secrets = new Map<string, string>();
  const missing: string[] = [];
  for (const [provider, p] of Object.entries(config.providers)) {
    for (const upstream of p.upstreams) {
      const value = env[upstream.apiKeyEnv];
      if (!value) missing.push(`${upstream.apiKeyEnv} (providers.${provider}.upstreams: ${upstream.name})`);
      else secrets.set(upstreamId(provider, upstream.name), value);
    }
  }
  if (missing.length) throw new ConfigError(`missing API keys in the environment:\n  ${missing.join('\n  ')}`);
  return secrets;
}

/** The breaker webhook URL from the variable `notifications.webhookUrlEnv` names; undefined when off. */
export function resolveWebhookUrl(config: SwitchboardConfig, env: NodeJS.ProcessEnv): string | undefined {
  const name = config.notifications.webhookUrlEnv;
  if (!name) return undefined;
  const value = env[name];
  if (!value) throw new ConfigError(`missing ${name} in the environment (notifications.webhookUrlEnv)`);
  return value;
}
