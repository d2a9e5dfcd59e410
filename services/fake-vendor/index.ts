/**
 * The fake vendor, in process: an OpenAI- and Anthropic-compatible upstream on
 * real HTTP with per-organisation rate limits and fault injection.
 *
 *   const vendor = await startFakeVendor({ config, port: 0 });
 *   new OpenAI({ apiKey: 'sk-fake-org-a-1', baseURL: `${vendor.url}/v1`, maxRetries: 0 });
 *   new Anthropic({ apiKey: 'sk-ant-fake-org-a-1', baseURL: vendor.url, maxRetries: 0 });
 */
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import type {
  ActiveFaultRule,
  FakeVendorConfig,
  FakeVendorConfigInput,
  FaultRuleInput,
  RequestLogQuery,
  ScenarioStepInput,
  VendorRequestRecord,
} from '../../schemas/fake-vendor';
import { parseFakeVendorConfig } from './config';
import { createFaultEngine } from './fault-engine';
import { createOrganisationRegistry } from './organisations';
import { createRequestLog } from './request-log';
import { createScenarioRunner } from './scenario-runner';
import { createScheduler } from './scheduler';
import { createRandom } from './seeded-random';
import { createVendorControl } from './vendor-control';
import { createVendorServer } from './vendor-server';

export interface StartFakeVendorOptions {
  /** A parsed config, or anything to validate as one (throws FakeVendorConfigError naming the field). */
  config: FakeVendorConfig | FakeVendorConfigInput | unknown;
  /** Port to listen on; 0 picks a free one. Default 0. */
  port?: number;
  /** Interface to bind. Default 127.0.0.1. */
  host?: string;
  /** Default: a silent logger. */
  logger?: Logger;
  /** Epoch-ms clock for rate limits, flapping and the request log. Default Date.now. */
  now?: () => number;
}

export interface FakeVendor {
  /** e.g. http://127.0.0.1:41234 — OpenAI SDK baseURL is `${url}/v1`, Anthropic SDK baseURL is `url`. */
  url: string;
  port: number;
  /** Validates and sets a rule; returns its id. Throws AdminInputError on bad input. */
  setFault(rule: FaultRuleInput): string;
  /** Removes one rule by id. */
  removeFault(id: string): boolean;
  /** Clears every rule, or only the organisation's. */
  clearFaults(organisation?: string): void;
  faults(): ActiveFaultRule[];
  /** Schedules the steps, `at` in ms from now; steps at 0 apply at once. */
  runScenario(steps: ScenarioStepInput[]): void;
  /** Cancels scenario steps not yet applied. */
  cancelScenario(): void;
  /** The vendor's view, oldest first. */
  requests(filter?: Partial<RequestLogQuery>): VendorRequestRecord[];
  resetLog(): void;
  /** Closes the server, destroys hanging sockets, cancels timers. */
  close(): Promise<void>;
}

export async function startFakeVendor(options: StartFakeVendorOptions): Promise<FakeVendor> {
  const config = parseFakeVendorConfig(options.config);
  const now = options.now ?? Date.now;
  const logger = options.logger ?? pino({ level: 'silent' });
  const scheduler = createScheduler();
  const registry = createOrganisationRegistry(config, now());
  // Fault probabilities and latency draws get their own stream, so answers stay the same whatever faults run.
  const faults = createFaultEngine({ random: createRandom(config.seed ^ 0x5eed), now });
  const log = createRequestLog(config.requestLog);
  const scenarios = createScenarioRunner({
    faults,
    scheduler,
    onStep: (step) => logger.info({ organisation: step.organisation, fault: step.fault?.kind ?? 'clear', atMs: step.at }, 'scenario step applied'),
    onError: (error, step) => logger.error({ err: error, organisation: step.organisation, atMs: step.at }, 'scenario step failed'),
  });
  const control = createVendorControl({ registry, faults, scenarios, log, now });
  const server = createVendorServer(
    {
      registry,
      faults,
      log,
      scheduler,
      now,
      seed: config.seed,
      answerTokens: { min: config.defaults.minAnswerTokens, max: config.defaults.maxAnswerTokens },
      logger,
    },
    control,
  );

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  if (config.scenario !== undefined) scenarios.run(config.scenario);
  logger.info({ url, organisations: registry.all.map((o) => o.id) }, 'fake vendor listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    port: address.port,
    setFault: (rule) => {
      const [id] = control.setFaults(rule);
      return id ?? '';
    },
    removeFault: (id) => control.removeFault(id),
    clearFaults: (organisation) => {
      control.clearFaults(organisation);
    },
    faults: () => control.listFaults(),
    runScenario: (steps) => {
      control.runScenario(steps);
    },
    cancelScenario: () => {
      control.cancelScenario();
    },
    requests: (filter) => control.queryRequests(filter).records,
    resetLog: () => control.resetLog(),
    close() {
      closing ??= new Promise<void>((resolve) => {
        scenarios.cancel();
        scheduler.close();
        server.close(() => resolve());
        // Hanging, stalled and held-open responses never finish on their own.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

export type {
  FakeVendorConfig,
  FakeVendorConfigInput,
  FaultRule,
  FaultRuleInput,
  ScenarioStep,
  ScenarioStepInput,
  VendorRequestRecord,
} from '../../schemas/fake-vendor';
export { AdminInputError, isAdminInputError } from './vendor-control';
export { FakeVendorConfigError, isFakeVendorConfigError, loadFakeVendorConfigFile, loadScenarioFile } from './config';
