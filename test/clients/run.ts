/**
 * `make test-clients`: an isolated Switchboard (Temporal dev server,
 * nats-server, the fake vendor, a worker and the gateway — `make up`'s code,
 * on free ports, in a temporary directory), then the Python client suite
 * against it (pytest, from the virtualenv the make target prepared), then
 * everything stopped, also when the suite fails or the run is interrupted
 * (SIGINT, SIGTERM, SIGHUP). Exits with pytest's code; when it is not 0 the
 * stack's logs are kept in .data/test-clients/logs. A control endpoint
 * (SB_STACK_CONTROL_URL) lets a test restart the gateway: `POST /restart-gateway`
 * answers `{before, after}` (the gateway's pids) once the new process is ready.
 *
 *   npx tsx test/clients/run.ts <python> [pytest args…]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { findFreePorts } from '../../lib/ports';
import { startNodeServices, stopNodeServices, type NodeServicesOptions } from '../../services/local-stack/node-services';
import { readPidFile, stopRecorded } from '../../services/local-stack/processes';
import { startLocalStackOnFreePorts, stopLocalStack } from '../../services/local-stack/stack';

/** The demo tenant's key in config/switchboard.local.yaml (its sha256 is what the config holds). */
const DEMO_KEY = 'sb-demo-key-acme';
const KEPT_LOGS = resolve(__dirname, '../../.data/test-clients/logs');
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

let interrupted: NodeJS.Signals | undefined;
let pytest: ChildProcess | undefined;

// A signal does not end this process at once: pytest is stopped and the
// `finally` below stops the stack, so nothing is left running.
for (const signal of STOP_SIGNALS) {
  process.on(signal, () => {
    interrupted ??= signal;
    console.error(`client suite: ${signal}, stopping pytest and the stack`);
    pytest?.kill('SIGTERM');
  });
}

function runPytest(python: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise<number>((resolvePytest, reject) => {
    // -rs: the summary names every skipped test with its reason.
    pytest = spawn(python, ['-m', 'pytest', 'test/clients', '-rs', ...args], { stdio: 'inherit', env });
    pytest.on('error', reject);
    pytest.on('exit', (code, signal) => resolvePytest(code ?? (signal ? 1 : 0)));
  });
}

/** pytest's environment: the stack's addresses; the SDKs' own defaults point at the gateway too and no real key is passed on. */
function suiteEnv(gatewayUrl: string, fakeVendorUrl: string): NodeJS.ProcessEnv {
  const { OPENAI_API_KEY: _openai, ANTHROPIC_API_KEY: _anthropic, LANGSMITH_API_KEY: _langsmith, ...env } = process.env;
  return {
    ...env,
    SB_GATEWAY_URL: gatewayUrl,
    SB_API_KEY: DEMO_KEY,
    SB_FAKE_VENDOR_URL: fakeVendorUrl,
    OPENAI_BASE_URL: `${gatewayUrl}/v1`,
    ANTHROPIC_BASE_URL: gatewayUrl,
    LANGSMITH_TRACING: 'false',
    LANGCHAIN_TRACING_V2: 'false',
  };
}

/** The suite's control endpoint: restarting the gateway is stopping its process and starting the stack's services again (the rest are kept). */
async function startControl(options: NodeServicesOptions): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/restart-gateway') return void res.writeHead(404).end();
    const pidFile = join(options.dataDir, 'pids', 'gateway.pid');
    const before = readPidFile(pidFile)?.pid;
    stopRecorded(pidFile)
      .then(() => startNodeServices(options))
      .then(
        () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ before, after: readPidFile(pidFile)?.pid })),
        (error: unknown) => res.writeHead(500).end(error instanceof Error ? error.message : String(error)),
      );
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the control endpoint has no port');
  return { server, url: `http://127.0.0.1:${address.port}` };
}

function keepLogs(dataDir: string): void {
  try {
    rmSync(KEPT_LOGS, { recursive: true, force: true });
    cpSync(join(dataDir, 'logs'), KEPT_LOGS, { recursive: true });
    console.error(`client suite: the stack's logs are in ${KEPT_LOGS}`);
  } catch (error) {
    console.error(`client suite: could not keep the stack's logs: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function main(): Promise<number> {
  const [python, ...pytestArgs] = process.argv.slice(2);
  if (!python) throw new Error('usage: npx tsx test/clients/run.ts <python> [pytest args…]');
  const root = mkdtempSync(join(tmpdir(), 'switchboard-clients-'));
  let dataDir: string | undefined;
  let control: { server: Server; url: string } | undefined;
  let code = 1;
  try {
    const started = await startLocalStackOnFreePorts({ newDataDir: () => mkdtempSync(join(root, 'stack-')), persist: false, readyTimeoutMs: 120_000 });
    dataDir = started.options.dataDir;
    const [fakeVendorPort, gatewayPort] = await findFreePorts(2);
    const options: NodeServicesOptions = {
      dataDir,
      host: '127.0.0.1',
      fakeVendorPort: fakeVendorPort!,
      gatewayPort: gatewayPort!,
      temporalAddress: started.stack.temporalAddress,
      natsUrl: started.stack.natsUrl,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      readyTimeoutMs: 180_000,
    };
    const services = await startNodeServices(options);
    if (!interrupted) {
      control = await startControl(options);
      console.log(`client suite: gateway ${services.gatewayUrl}, fake vendor ${services.fakeVendorUrl}`);
      code = await runPytest(python, pytestArgs, { ...suiteEnv(services.gatewayUrl, services.fakeVendorUrl ?? ''), SB_STACK_CONTROL_URL: control.url });
    }
    if (interrupted) code = 130;
    return code;
  } finally {
    control?.server.close();
    if (dataDir) {
      await stopNodeServices(dataDir);
      await stopLocalStack(dataDir);
      if (code !== 0) keepLogs(dataDir);
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
