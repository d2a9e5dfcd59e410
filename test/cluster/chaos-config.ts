/**
 * The chaos suite's Switchboard config: config/switchboard.local.yaml with one
 * change — a new (`untrusted`) user may send USER_LIMIT requests a minute and
 * nothing else limits them, so a burst of a few seconds is admitted exactly
 * USER_LIMIT times (the bucket refills one request every 60/USER_LIMIT s).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';

export const USER_LIMIT = 4;
/** How long the user's bucket takes to win back one request. */
export const USER_REFILL_MS = 60_000 / USER_LIMIT;

export function writeChaosConfig(dir: string): string {
  const config = parse(readFileSync(resolve(__dirname, '../../config/switchboard.local.yaml'), 'utf8')) as {
    gateway: { admission?: Record<string, unknown> };
  };
  config.gateway.admission = { ...config.gateway.admission, segments: { untrusted: { requestsPerMinute: USER_LIMIT } } };
  const path = join(dir, 'switchboard.chaos.yaml');
  writeFileSync(path, stringify(config));
  return path;
}
