/**
 * A gateway under test: `startSwitchboard()` (fake vendor, worker, NATS,
 * Temporal) plus the HTTP gateway in-process on port 0, with its own NATS
 * connection and its own admission bucket, and an official `openai` client
 * pointed at it.
 */
import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import OpenAI from 'openai';
import { createLogger } from '../../lib/log';
import type { SwitchboardConfigInput } from '../../schemas/config';
import type { GatewayConfigInput } from '../../schemas/gateway';
import { createGateway, type Gateway } from '../../services/gateway/server';
import type { SwitchboardWorkerOptions } from '../../services/worker/worker';
import { hashApiKey } from '../../services/gateway/tenants';
import { testStack } from './env';
import { startSwitchboard, type SwitchboardUnderTest } from './switchboard';

/** Tenant API keys the tests present (the config holds only their sha256). */
export const tenantKeys = { acme: 'sk-sb-test-acme-1', globex: 'sk-sb-test-globex-1' } as const;

export function gatewaySection(
  overrides: Partial<GatewayConfigInput> = {},
  admissionBucket = `sb_admission_test_${randomUUID().slice(0, 8)}`,
): GatewayConfigInput {
  return {
    tenants: Object.entries(tenantKeys).map(([id, key]) => ({ id, keys: [{ name: `${id}-1`, sha256: hashApiKey(key) }] })),
    maxBodyBytes: 64 * 1024,
    deadlineMs: 30_000,
    // Features' tests send bursts of up to 50 calls to one pod, on a machine that may be busy with other suites: the
    // adaptive limit would rightly shed some of them. Load shedding's own tests set `shedding` and get the defaults.
    shedding: { adaptiveLimit: { minLimit: 50 } },
    ...overrides,
    admission: { bucket: admissionBucket, ...overrides.admission },
  };
}

export interface GatewayUnderTest extends SwitchboardUnderTest {
  gateway: Gateway;
  gatewayNats: NatsConnection;
  url: string;
  /** An official OpenAI client with tenant `acme`'s key (or the one given). */
  openai(apiKey?: string): OpenAI;
}

export async function startGateway(
  options: {
    gateway?: Partial<GatewayConfigInput>;
    configOverrides?: Partial<SwitchboardConfigInput>;
    workerOptions?: SwitchboardWorkerOptions['workerOptions'];
  } = {},
): Promise<GatewayUnderTest> {
  const t = await startSwitchboard({
    configOverrides: { ...options.configOverrides, gateway: gatewaySection(options.gateway) },
    ...(options.workerOptions ? { workerOptions: options.workerOptions } : {}),
  });
  let gatewayNats: NatsConnection | undefined;
  try {
    // Like the gateway service: reconnect for as long as it takes (tests stop NATS for longer than the default 20 s).
    gatewayNats = await connect({ servers: testStack().natsUrl, name: 'switchboard-gateway-test', maxReconnectAttempts: -1 });
    const gateway = await createGateway({
      config: t.config,
      client: t.client,
      nats: gatewayNats,
      taskQueue: t.taskQueue,
      log: createLogger({ level: 'silent' }),
    });
    const url = await gateway.listen(0);
    const nats = gatewayNats;
    return {
      ...t,
      gateway,
      gatewayNats: nats,
      url,
      openai: (apiKey = tenantKeys.acme) => new OpenAI({ apiKey, baseURL: `${url}/v1`, maxRetries: 0, timeout: 30_000 }),
      async close() {
        await gateway.close(1_000).catch(() => undefined);
        await nats.drain().catch(() => undefined);
        await t.close();
      },
    };
  } catch (error) {
    await gatewayNats?.close().catch(() => undefined);
    await t.close();
    throw error;
  }
}

/** The OpenAI SDK error a request fails with (the test fails if it succeeds, or fails otherwise). */
export async function apiError(promise: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OpenAI.APIError) return error;
    throw error;
  }
  throw new Error('the request succeeded; an error was expected');
}
