/**
 * A Switchboard under test: the fake vendor over real HTTP, a worker on the
 * real Temporal dev server and NATS, the typed client. Each call to
 * `startSwitchboard()` gets its own task queue and its own fake vendor.
 */
import { randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import { connectClient } from '../../lib/config/temporal-connection';
import { connect, type NatsConnection } from 'nats';
import { decodeJson } from '../../lib/nats/json-payload';
import { createSwitchboardClient, type SwitchboardClient } from '../../lib/client';
import { parseConfig, resolveSecrets } from '../../lib/config/load';
import { createLogger } from '../../lib/log';
import { ensureStreams, streams } from '../../lib/nats/streams';
import { CallEvent } from '../../schemas/call-event';
import { Interaction } from '../../schemas/interaction';
import { interactionSubject } from '../../contracts/names';
import type { SwitchboardConfig, SwitchboardConfigInput } from '../../schemas/config';
import type { FakeVendorConfigInput } from '../../schemas/fake-vendor';
import { startFakeVendor, type FakeVendor } from '../../services/fake-vendor';
import { createSwitchboardWorker, type SwitchboardWorker, type SwitchboardWorkerOptions } from '../../services/worker/worker';
import { installQuietRuntime, testDataConverter, testStack } from './env';

/** Fake-vendor organisations and the API keys Switchboard's upstreams use. */
export const vendorConfig: FakeVendorConfigInput = {
  seed: 11,
  organisations: [
    { id: 'openai/org-a', protocol: 'openai', keys: [{ name: 'a', key: 'sk-fake-test-org-a' }] },
    { id: 'openai/org-b', protocol: 'openai', keys: [{ name: 'b', key: 'sk-fake-test-org-b' }] },
    { id: 'openai/org-c', protocol: 'openai', keys: [{ name: 'c', key: 'sk-fake-test-org-c' }] },
    { id: 'openai/org-s', protocol: 'openai', keys: [{ name: 's', key: 'sk-fake-test-org-s' }] },
    { id: 'anthropic/org-a', protocol: 'anthropic', keys: [{ name: 'ant-a', key: 'sk-ant-fake-test-org-a' }] },
  ],
};

export const testSecretsEnv = {
  SB_TEST_KEY_OPENAI_A: 'sk-fake-test-org-a',
  SB_TEST_KEY_OPENAI_B: 'sk-fake-test-org-b',
  SB_TEST_KEY_OPENAI_C: 'sk-fake-test-org-c',
  SB_TEST_KEY_SOLO: 'sk-fake-test-org-s',
  SB_TEST_KEY_ANTHROPIC_A: 'sk-ant-fake-test-org-a',
};

/**
 * Providers `openai` (org-a weight 2, org-b, org-c), `solo` (one OpenAI
 * organisation, for tests that need to know which upstream is hit) and
 * `anthropic`; routes with and without fallbacks.
 */
export function switchboardConfig(vendorUrl: string, overrides: Partial<SwitchboardConfigInput> = {}): SwitchboardConfigInput {
  return {
    providers: {
      openai: {
        protocol: 'openai',
        baseUrl: `${vendorUrl}/v1`,
        upstreams: [
          { name: 'org-a', apiKeyEnv: 'SB_TEST_KEY_OPENAI_A', weight: 2 },
          { name: 'org-b', apiKeyEnv: 'SB_TEST_KEY_OPENAI_B' },
          { name: 'org-c', apiKeyEnv: 'SB_TEST_KEY_OPENAI_C' },
        ],
      },
      solo: { protocol: 'openai', baseUrl: `${vendorUrl}/v1`, upstreams: [{ name: 'org-s', apiKeyEnv: 'SB_TEST_KEY_SOLO' }] },
      anthropic: { protocol: 'anthropic', baseUrl: vendorUrl, upstreams: [{ name: 'org-a', apiKeyEnv: 'SB_TEST_KEY_ANTHROPIC_A' }] },
    },
    prompts: {
      assistant: {
        default: { system: 'You are a concise assistant.' },
        providers: { anthropic: { system: 'You are Claude, a concise assistant. Answer in plain prose.', instructions: 'Keep it short.' } },
      },
    },
    routes: {
      'chat-default': {
        entries: [
          { provider: 'openai', model: 'gpt-4o-mini', prompt: 'assistant' },
          { provider: 'anthropic', model: 'claude-haiku-4-5', prompt: 'assistant' },
        ],
      },
      'solo-fallback': {
        entries: [
          { provider: 'solo', model: 'gpt-4o-mini', contextTokens: 8_000 },
          { provider: 'anthropic', model: 'claude-haiku-4-5', contextTokens: 200_000 },
        ],
      },
      'solo-only': { entries: [{ provider: 'solo', model: 'gpt-4o-mini' }] },
      'solo-hang': {
        attemptTimeoutMs: 800,
        entries: [
          { provider: 'solo', model: 'gpt-4o-mini' },
          { provider: 'anthropic', model: 'claude-haiku-4-5' },
        ],
      },
      cached: { entries: [{ provider: 'solo', model: 'gpt-4o-mini' }], cache: { exact: { enabled: true, ttlMs: 60_000 } } },
      'cached-semantic-vendor': {
        entries: [{ provider: 'solo', model: 'gpt-4o-mini' }],
        cache: { exact: { enabled: true, ttlMs: 60_000 }, semantic: { enabled: true, embedder: 'vendor', embeddingProvider: 'solo' } },
      },
      'cached-semantic': {
        entries: [{ provider: 'solo', model: 'gpt-4o-mini' }],
        cache: { exact: { enabled: true, ttlMs: 60_000 }, semantic: { enabled: true, threshold: 0.95 } },
      },
    },
    retry: { initialIntervalMs: 50, maxIntervalMs: 1_000, maxAttemptsPerEntry: 3, maxAttempts: 10 },
    timeouts: { attemptMs: 10_000, callMs: 60_000, heartbeatMs: 2_000 },
    prices: { 'gpt-4o-mini': { inputPerMTok: 0.15, outputPerMTok: 0.6 }, 'claude-haiku-4-5': { inputPerMTok: 1, outputPerMTok: 5 } },
    ...overrides,
  };
}

export interface SwitchboardUnderTest {
  vendor: FakeVendor;
  config: SwitchboardConfig;
  client: Client;
  sb: SwitchboardClient;
  nats: NatsConnection;
  taskQueue: string;
  controlBucket: string;
  worker?: SwitchboardWorker;
  /** Starts (another) in-process worker on this task queue. */
  startWorker(): Promise<SwitchboardWorker>;
  close(): Promise<void>;
}

export async function startSwitchboard(
  /** `configOverrides` may be a function of the fake vendor's URL (for providers of a test's own). */
  options: {
    withWorker?: boolean;
    configOverrides?: Partial<SwitchboardConfigInput> | ((vendorUrl: string) => Partial<SwitchboardConfigInput>);
    /** Passed to the worker's Worker.create (e.g. fewer activity slots, for a capacity-bound stack). */
    workerOptions?: SwitchboardWorkerOptions['workerOptions'];
  } = {},
): Promise<SwitchboardUnderTest> {
  installQuietRuntime();
  const { temporalAddress, natsUrl, workflowBundle } = testStack();
  const vendor = await startFakeVendor({ config: vendorConfig });
  const overrides = typeof options.configOverrides === 'function' ? options.configOverrides(vendor.url) : options.configOverrides;
  const config = parseConfig(switchboardConfig(vendor.url, overrides), 'test config');
  const secrets = resolveSecrets(config, testSecretsEnv);
  const connection = await connectClient({ address: temporalAddress });
  const client = new Client({ connection, dataConverter: testDataConverter() });
  const nats = await connect({ servers: natsUrl, name: 'switchboard-test', maxReconnectAttempts: -1 });
  await ensureStreams(nats);
  const taskQueue = `test-${randomUUID()}`;
  // Each Switchboard under test has its own operator switches, so flipping one never reaches another test file.
  const controlBucket = `sb_control_test_${randomUUID().slice(0, 8)}`;
  const workers: Array<{ sb: SwitchboardWorker; running: Promise<void> }> = [];
  const log = createLogger({ level: 'silent' });

  const startWorker = async () => {
    // cluster = task queue: this Switchboard's breakers and health never mix with another test file's.
    const sb = await createSwitchboardWorker({
      config,
      secrets,
      temporalAddress,
      natsUrl,
      taskQueue,
      log,
      workflowBundlePath: workflowBundle,
      controlBucket,
      cluster: taskQueue,
      dataConverter: testDataConverter(),
      ...(options.workerOptions ? { workerOptions: options.workerOptions } : {}),
    });
    workers.push({ sb, running: sb.run() });
    return sb;
  };
  const under: SwitchboardUnderTest = {
    vendor,
    config,
    client,
    sb: createSwitchboardClient({ client, taskQueue }),
    nats,
    taskQueue,
    controlBucket,
    startWorker,
    async close() {
      for (const w of workers) w.sb.shutdown();
      await Promise.allSettled(workers.map((w) => w.running));
      await nats.drain().catch(() => undefined);
      await connection.close().catch(() => undefined);
      await vendor.close();
    },
  };
  if (options.withWorker !== false) under.worker = await startWorker();
  return under;
}

/**
 * Every JSON message of `stream` (only `subject`'s when given), read up to the
 * stream's current end. Not JSON: not a publisher of ours
 * (test/health/stray-values.test.ts puts one there), skipped.
 */
async function readStreamJson(nats: NatsConnection, stream: string, subject?: string): Promise<unknown[]> {
  const jsm = await nats.jetstreamManager();
  const last = subject
    ? (await jsm.streams.getMessage(stream, { last_by_subj: subject }).catch(() => undefined))?.seq
    : await jsm.streams.info(stream).then((info) => (info.state.messages === 0 ? undefined : info.state.last_seq));
  if (last === undefined) return [];
  const consumer = await nats.jetstream().consumers.get(stream, subject ? { filterSubjects: [subject] } : {});
  // The stream holds every test file's messages: give a loaded machine time to deliver them all.
  const messages = await consumer.fetch({ max_messages: 100_000, expires: 5_000 });
  const found: unknown[] = [];
  for await (const message of messages) {
    const data = decodeJson(message.data);
    if (data !== undefined) found.push(data);
    if (message.seq >= last) break;
  }
  return found;
}

/** Every CallEvent in SB_CALLS for which `match` holds (reads the stream up to its current end). */
export async function readCallEvents(nats: NatsConnection, match: (event: CallEvent) => boolean): Promise<CallEvent[]> {
  return (await readStreamJson(nats, streams.calls.name)).map((data) => CallEvent.parse(data)).filter(match);
}

/**
 * The interaction record of call `callId`, once stored. Found by its call id
 * among the tenant's records: other test files write to the same tenant's
 * subject, so its last record may be another call's.
 */
export function interactionRecord(nats: NatsConnection, tenant: string, callId: string): Promise<Interaction> {
  return eventually(`the interaction record of ${callId}`, async () => {
    const records = await readStreamJson(nats, streams.interactions.name, interactionSubject(tenant));
    return records.map((data) => Interaction.safeParse(data)).find((parsed) => parsed.success && parsed.data.callId === callId)?.data;
  });
}

/**
 * Polls until `check` holds, or fails naming `what`. The default wait (30 s)
 * is for a loaded machine: a condition met at once on a quiet one returns at
 * once; 10 s failed fresh-clone runs at load 7 (an interaction record).
 */
export async function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
