/**
 * The stack every part runs on: `make up`'s shape (Temporal dev server with
 * SQLite, nats-server with JetStream, the fake vendor, Switchboard worker
 * and gateway processes with config/switchboard.local.yaml and
 * config/local.env) but on free ports in a temporary directory, so a run
 * never touches a `make up` stack (or another run) on this machine.
 *
 * Three differences from config/switchboard.local.yaml, all written into the
 * run's copy: the providers point at this run's fake vendor, the tenant, key
 * and anonymous admission budgets are lifted (the load has one key and no
 * users), and `gateway.streamDefaults.firstTokenTimeoutMs` is 3 s (default 10 s) so the
 * slow-first-token scenario fits its time budget; the peer gets the same 3 s
 * as its `request_timeout`. The fake vendor runs config/fake-vendor.example.yaml
 * with every rate limit raised to 10^9 requests per minute: saturation runs
 * through the peer and direct reach thousands of requests per second, which
 * the example's 10,000 rpm would answer with 429s.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { parse } from 'yaml';
import { findFreePorts } from '../../lib/ports';
import type { SwitchboardConfigInput } from '../../schemas/config';
import { readEnvFile } from '../../services/local-stack/node-services';
import { stopRecorded } from '../../services/local-stack/processes';
import { startLocalStack, stopLocalStack, type LocalStackOptions } from '../../services/local-stack/stack';
import { ROOT, spawnService, stopService, waitUntilReady, type ServiceProcess } from './services';
import { benchPayloadEnv } from '../payload-keys';

export const FIRST_TOKEN_TIMEOUT_MS = 3_000;
/** The demo tenant's key (config/switchboard.local.yaml stores its sha256). */
export const TENANT_KEY = 'sb-demo-key-acme';

export interface ServiceOptions {
  name: string;
  taskQueue: string;
  cluster: string;
  /** Node flags before the script (e.g. `--cpu-prof`). Default none. */
  nodeArgs?: string[];
}

export interface BenchStack {
  runDir: string;
  temporalAddress: string;
  natsUrl: string;
  vendor: ServiceProcess;
  vendorUrl: string;
  /** The fake vendor's test keys, by env var name (config/local.env). */
  keys: Record<string, string>;
  /** The fake vendor's organisation ids. */
  organisations: string[];
  /** Pids of the Temporal dev server and nats-server (updated in place when one is restarted). */
  infrastructure: Array<{ name: string; pid: number }>;
  /** Stops the Temporal dev server or nats-server (SIGTERM, waits for its exit): an outage of our own stack. */
  stopInfrastructure(part: 'temporal' | 'nats'): Promise<void>;
  /** Starts what was stopped again on the same ports and data (SQLite, JetStream), and waits until it is healthy. */
  restartInfrastructure(): Promise<void>;
  startWorker(o: ServiceOptions): Promise<ServiceProcess>;
  spawnWorker(o: ServiceOptions): Promise<{ service: ServiceProcess; ready: Promise<void> }>;
  /** `defaultShedding`: the adaptive limit on, as configured by default (otherwise off: benchSwitchboardConfig). */
  /** `answerHandoff: false`: SB_ANSWER_HANDOFF=false, every answer waits for Temporal's copy of the completion (default on). */
  startGateway(
    o: ServiceOptions & { inProcessWorker: boolean; defaultShedding?: boolean; answerHandoff?: boolean },
  ): Promise<{ service: ServiceProcess; url: string }>;
  close(): Promise<void>;
}

function vendorConfig(): { organisations: Array<{ id: string } & Record<string, unknown>> } {
  const config = parse(readFileSync(join(ROOT, 'config/fake-vendor.example.yaml'), 'utf8')) as {
    organisations: Array<{ id: string } & Record<string, unknown>>;
  };
  return { ...config, organisations: config.organisations.map((o) => ({ ...o, rpm: 1_000_000_000, tpm: 1_000_000_000_000 })) };
}

/**
 * The bench's config: the local stack's, pointed at the bench's vendor, with admission budgets lifted. `shedding`
 * 'lifted' also turns the adaptive limit off — the overhead, scale, crash and cluster parts measure the stack at and
 * beyond saturation with closed loops (50 clients that ask again at once), not how a pod sheds them; the stack part's
 * overload scenario measures shedding with the defaults ('default').
 */
export function benchSwitchboardConfig(vendorUrl: string, shedding: 'lifted' | 'default' = 'lifted'): SwitchboardConfigInput {
  const config = parse(readFileSync(join(ROOT, 'config/switchboard.local.yaml'), 'utf8')) as SwitchboardConfigInput;
  for (const provider of Object.values(config.providers)) provider.baseUrl = provider.protocol === 'openai' ? `${vendorUrl}/v1` : vendorUrl;
  const gateway = config.gateway ?? {};
  // The bench loads the gateway with one key and no users: its budgets would measure admission, not the stack.
  const admission = { ...gateway.admission, perTenant: {}, perKey: {}, anonymous: {} };
  // Both gateways give up on a silent or stalled upstream after FIRST_TOKEN_TIMEOUT_MS (the peer: its request_timeout).
  config.gateway = {
    ...gateway,
    admission,
    ...(shedding === 'lifted' ? { shedding: { ...gateway.shedding, adaptiveLimit: { ...gateway.shedding?.adaptiveLimit, enabled: false } } } : {}),
    streamDefaults: { ...gateway.streamDefaults, firstTokenTimeoutMs: FIRST_TOKEN_TIMEOUT_MS, stallTimeoutMs: FIRST_TOKEN_TIMEOUT_MS },
  };
  config.timeouts = { ...config.timeouts, attemptMs: FIRST_TOKEN_TIMEOUT_MS };
  return config;
}

export async function startBenchStack(runDir: string, readyTimeoutMs = 180_000): Promise<BenchStack> {
  const logDir = join(runDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const [temporalPort, natsPort, natsMonitorPort, vendorPort] = await findFreePorts(4);
  const stackDir = join(runDir, 'stack');
  const stackOptions: LocalStackOptions = {
    dataDir: stackDir,
    temporalPort: temporalPort!,
    natsPort: natsPort!,
    natsMonitorPort: natsMonitorPort!,
    readyTimeoutMs,
  };
  const [stack, bundle] = await Promise.all([
    startLocalStack(stackOptions),
    bundleWorkflowCode({ workflowsPath: join(ROOT, 'workflows/index.ts'), logger: new DefaultLogger('ERROR') }),
  ]);
  const bundlePath = join(runDir, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);

  const vendorConfigPath = join(runDir, 'fake-vendor.json');
  const vendorSettings = vendorConfig();
  writeFileSync(vendorConfigPath, JSON.stringify(vendorSettings));
  const vendorUrl = `http://127.0.0.1:${vendorPort}`;
  const vendor = spawnService({
    name: 'fake-vendor',
    args: ['services/fake-vendor/main.ts', '--config', vendorConfigPath, '--port', String(vendorPort), '--log-level', 'warn'],
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    logDir,
  });
  await waitUntilReady(vendor, `${vendorUrl}/_admin/health`, readyTimeoutMs);

  const configPath = join(runDir, 'switchboard.json');
  writeFileSync(configPath, JSON.stringify(benchSwitchboardConfig(vendorUrl), null, 2));
  const defaultSheddingConfigPath = join(runDir, 'switchboard-default-shedding.json');
  writeFileSync(defaultSheddingConfigPath, JSON.stringify(benchSwitchboardConfig(vendorUrl, 'default'), null, 2));
  const keys = readEnvFile(join(ROOT, 'config/local.env'));
  const serviceEnv = (o: { taskQueue: string; cluster: string }): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...benchPayloadEnv,
    ...keys,
    SB_CONFIG: configPath,
    TEMPORAL_ADDRESS: stack.temporalAddress,
    NATS_URL: stack.natsUrl,
    SB_TASK_QUEUE: o.taskQueue,
    SB_CLUSTER: o.cluster,
    SB_WORKFLOW_BUNDLE: bundlePath,
    LOG_LEVEL: 'warn',
  });

  /** Spawns a worker at once (the caller may kill it any time); `ready` resolves when its /readyz answers. */
  const spawnWorker: BenchStack['spawnWorker'] = async (o) => {
    const [port] = await findFreePorts(1);
    const service = spawnService({
      name: o.name,
      args: [...(o.nodeArgs ?? []), 'services/worker/main.ts'],
      env: { ...serviceEnv(o), SB_HEALTH_PORT: String(port) },
      logDir,
    });
    service.metricsUrl = `http://127.0.0.1:${port}/metrics`;
    return { service, ready: waitUntilReady(service, `http://127.0.0.1:${port}/readyz`, readyTimeoutMs) };
  };

  const infrastructure = stack.processes.map((p) => ({ name: p.name, pid: p.pid }));
  return {
    runDir,
    temporalAddress: stack.temporalAddress,
    natsUrl: stack.natsUrl,
    vendor,
    vendorUrl,
    keys,
    organisations: vendorSettings.organisations.map((o) => o.id),
    infrastructure,
    async stopInfrastructure(part) {
      await stopRecorded(join(stackDir, 'pids', `${part}.pid`));
    },
    async restartInfrastructure() {
      const restarted = await startLocalStack(stackOptions);
      for (const p of restarted.processes) {
        const known = infrastructure.find((x) => x.name === p.name);
        if (known) known.pid = p.pid;
      }
    },
    spawnWorker,
    async startWorker(o) {
      const { service, ready } = await spawnWorker(o);
      await ready;
      return service;
    },
    async startGateway(o) {
      const [port] = await findFreePorts(1);
      const service = spawnService({
        name: o.name,
        args: [...(o.nodeArgs ?? []), 'services/gateway/main.ts'],
        env: {
          ...serviceEnv(o),
          SB_GATEWAY_PORT: String(port),
          SB_GATEWAY_WORKER: String(o.inProcessWorker),
          SB_ANSWER_HANDOFF: String(o.answerHandoff ?? true),
          ...(o.defaultShedding ? { SB_CONFIG: defaultSheddingConfigPath } : {}),
        },
        logDir,
      });
      const url = `http://127.0.0.1:${port}`;
      service.metricsUrl = `${url}/metrics`;
      await waitUntilReady(service, `${url}/readyz`, readyTimeoutMs);
      return { service, url };
    },
    async close() {
      await stopService(vendor);
      await stopLocalStack(stackDir);
    },
  };
}
