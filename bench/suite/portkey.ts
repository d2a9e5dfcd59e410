/**
 * The peer: Portkey's open-source AI gateway (`@portkey-ai/gateway`, MIT),
 * installed from the npm registry into ~/.cache/switchboard/ at bench time
 * (never into the repository) and started with its package's own bin,
 * `build/start-server.js --port=<port> --headless`.
 *
 * Requests reach the fake vendor through either the `x-portkey-provider:
 * openai` + `x-portkey-custom-host` headers (one upstream) or an
 * `x-portkey-config` JSON with the same upstream set Switchboard's
 * `chat-default` route has: a weighted load balance over the three OpenAI
 * organisations, falling back to the Anthropic organisation.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { findFreePorts } from '../../lib/ports';
import { spawnService, waitUntilReady, type ServiceProcess } from './services';

export const PORTKEY_VERSION = '1.15.2';
const PACKAGE = '@portkey-ai/gateway';

function cacheDir(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'switchboard', `portkey-gateway-${PORTKEY_VERSION}`);
}

/** Installs the pinned version once (npm's own client); returns the package directory. */
export function ensurePortkeyInstalled(log: (line: string) => void): string {
  const prefix = cacheDir();
  const packageDir = join(prefix, 'node_modules', ...PACKAGE.split('/'));
  const installedVersion = existsSync(join(packageDir, 'package.json'))
    ? (JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version?: string }).version
    : undefined;
  if (installedVersion !== PORTKEY_VERSION) {
    log(`installing ${PACKAGE}@${PORTKEY_VERSION} into ${prefix}`);
    mkdirSync(prefix, { recursive: true });
    // npm from this Node's own directory, so the registry client matches the Node the suite runs on.
    const npm = join(process.execPath, '..', 'npm');
    execFileSync(
      existsSync(npm) ? npm : 'npm',
      ['install', '--prefix', prefix, '--no-audit', '--no-fund', '--loglevel=error', `${PACKAGE}@${PORTKEY_VERSION}`],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
  }
  return packageDir;
}

/** The package's bin (package.json `bin`), checked rather than assumed. */
function startScript(packageDir: string): string {
  const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { bin?: string | Record<string, string> };
  const bin = typeof pkg.bin === 'string' ? pkg.bin : Object.values(pkg.bin ?? {})[0];
  if (!bin) throw new Error(`${PACKAGE}@${PORTKEY_VERSION} has no bin in its package.json`);
  return join(packageDir, bin);
}

export async function startPortkey(packageDir: string, logDir: string): Promise<{ service: ServiceProcess; url: string }> {
  const [port] = await findFreePorts(1);
  const service = spawnService({
    name: 'portkey-gateway',
    command: process.execPath,
    args: [startScript(packageDir), `--port=${port}`, '--headless'],
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    logDir,
    cwd: packageDir,
  });
  const url = `http://127.0.0.1:${port}`;
  // `GET /` answers "AI Gateway says hey!" once it listens.
  await waitUntilReady(service, `${url}/`, 60_000);
  return { service, url };
}

/** Headers routing one request to one OpenAI organisation of the fake vendor. */
export function singleUpstreamHeaders(vendorUrl: string): Record<string, string> {
  return { 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `${vendorUrl}/v1` };
}

export interface PortkeyPoolOptions {
  vendorUrl: string;
  keys: Record<string, string>;
  /** Per-target timeout (ms): Portkey answers 408 and the fallback moves on. */
  requestTimeoutMs: number;
}

/**
 * `chat-default`'s upstream set as a Portkey config: loadbalance org-a (2),
 * org-b (1), org-c (1); on any non-2xx, fall back to Anthropic org-a with
 * claude-haiku-4-5. Portkey's open-source gateway keeps no health state
 * between requests (its `isOpen` target filter is fed by the hosted control
 * plane), so every request chooses by weight alone.
 */
export function poolConfigHeader(o: PortkeyPoolOptions): Record<string, string> {
  const openai = (key: string, weight: number) => ({
    provider: 'openai',
    api_key: key,
    custom_host: `${o.vendorUrl}/v1`,
    weight,
    request_timeout: o.requestTimeoutMs,
  });
  const config = {
    strategy: { mode: 'fallback' },
    targets: [
      {
        strategy: { mode: 'loadbalance' },
        targets: [openai(o.keys.OPENAI_ORG_A_KEY!, 2), openai(o.keys.OPENAI_ORG_B_KEY!, 1), openai(o.keys.OPENAI_ORG_C_KEY!, 1)],
      },
      {
        provider: 'anthropic',
        api_key: o.keys.ANTHROPIC_ORG_A_KEY!,
        custom_host: `${o.vendorUrl}/v1`,
        request_timeout: o.requestTimeoutMs,
        override_params: { model: 'claude-haiku-4-5', max_tokens: 512 },
      },
    ],
  };
  return { 'x-portkey-config': JSON.stringify(config) };
}
