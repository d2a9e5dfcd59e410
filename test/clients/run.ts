/**
 * `make test-clients`: an isolated Switchboard (Temporal dev server,
 * nats-server, the fake vendor, a worker and the gateway — `make up`'s code,
 * on free ports, in a temporary directory), then the Python client suite
 * against it (pytest, from the virtualenv the make target prepared), then
 * everything stopped, also when the suite fails. Exits with pytest's code.
 *
 *   npx tsx test/clients/run.ts <python> [pytest args…]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePorts } from '../../lib/ports';
import { startNodeServices, stopNodeServices } from '../../services/local-stack/node-services';
import { startLocalStackOnFreePorts, stopLocalStack } from '../../services/local-stack/stack';

/** The demo tenant's key in config/switchboard.local.yaml (its sha256 is what the config holds). */
const DEMO_KEY = 'sb-demo-key-acme';

async function main(): Promise<number> {
  const [python, ...pytestArgs] = process.argv.slice(2);
  if (!python) throw new Error('usage: npx tsx test/clients/run.ts <python> [pytest args…]');
  const root = mkdtempSync(join(tmpdir(), 'switchboard-clients-'));
  let dataDir: string | undefined;
  try {
    const started = await startLocalStackOnFreePorts({ newDataDir: () => mkdtempSync(join(root, 'stack-')), persist: false, readyTimeoutMs: 120_000 });
    dataDir = started.options.dataDir;
    const [fakeVendorPort, gatewayPort] = await findFreePorts(2);
    const services = await startNodeServices({
      dataDir,
      host: '127.0.0.1',
      fakeVendorPort: fakeVendorPort!,
      gatewayPort: gatewayPort!,
      temporalAddress: started.stack.temporalAddress,
      natsUrl: started.stack.natsUrl,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      readyTimeoutMs: 180_000,
    });
    console.log(`client suite: gateway ${services.gatewayUrl}, fake vendor ${services.fakeVendorUrl}`);
    return await new Promise<number>((resolve, reject) => {
      const pytest = spawn(python, ['-m', 'pytest', 'test/clients', ...pytestArgs], {
        stdio: 'inherit',
        env: { ...process.env, SB_GATEWAY_URL: services.gatewayUrl, SB_API_KEY: DEMO_KEY, SB_FAKE_VENDOR_URL: services.fakeVendorUrl ?? '' },
      });
      pytest.on('error', reject);
      pytest.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    });
  } finally {
    if (dataDir) {
      await stopNodeServices(dataDir);
      await stopLocalStack(dataDir);
    }
    rmSync(root, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
