/**
 * What the global setup handed to this test file: where the stack is and
 * where the bundled workflow code lives.
 */
import { randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import { connectClient } from '../../lib/config/temporal-connection';
import { NativeConnection, Runtime, DefaultLogger, Worker, type WorkerOptions } from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import { connect, type NatsConnection } from 'nats';
import { payloadDataConverter } from '../../lib/codec';

export function testStack() {
  const temporalAddress = process.env.TEMPORAL_ADDRESS;
  const natsUrl = process.env.NATS_URL;
  const workflowBundle = process.env.SB_TEST_WORKFLOW_BUNDLE;
  if (!temporalAddress || !natsUrl || !workflowBundle) {
    throw new Error('the jest global setup did not run (TEMPORAL_ADDRESS, NATS_URL, SB_TEST_WORKFLOW_BUNDLE unset)');
  }
  return { temporalAddress, natsUrl, workflowBundle };
}

let dataConverter: DataConverter | undefined;
/** The run's payload codec (global setup's key): every test client and worker reads and writes what the services do. */
export function testDataConverter(): DataConverter {
  dataConverter ??= payloadDataConverter({ SB_PAYLOAD_KEYS: process.env.SB_PAYLOAD_KEYS, SB_PAYLOAD_KEYS_FILE: process.env.SB_PAYLOAD_KEYS_FILE });
  return dataConverter;
}

/** The variables a spawned worker or gateway needs for the same codec. */
export function testPayloadEnv(): Record<string, string> {
  const { SB_PAYLOAD_KEYS: keys, SB_PAYLOAD_KEYS_FILE: file } = process.env;
  return { ...(keys ? { SB_PAYLOAD_KEYS: keys } : {}), ...(file ? { SB_PAYLOAD_KEYS_FILE: file } : {}) };
}

let runtimeInstalled = false;
/** Keeps the SDK's logs to errors so jest output stays readable. */
export function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // already installed by another helper in this module registry
  }
}

export interface TestContext {
  client: Client;
  nats: NatsConnection;
  taskQueue: string;
  close(): Promise<void>;
}

/** A Temporal client and a NATS connection, plus a task queue unique to the test file. */
export async function openTestContext(): Promise<TestContext> {
  installQuietRuntime();
  const { temporalAddress, natsUrl } = testStack();
  const connection = await connectClient({ address: temporalAddress });
  const nats = await connect({ servers: natsUrl, name: 'switchboard-test' });
  return {
    client: new Client({ connection, dataConverter: testDataConverter() }),
    nats,
    taskQueue: `test-${randomUUID()}`,
    async close() {
      await nats.drain().catch(() => undefined);
      await connection.close();
    },
  };
}

/**
 * Runs `fn` while a worker on the real server polls with the bundled
 * workflows and the given activities; shuts the worker down and closes its
 * connection even when `fn` throws.
 */
export async function withWorker<T>(
  options: Omit<WorkerOptions, 'connection' | 'workflowBundle' | 'workflowsPath'>,
  fn: (worker: Worker) => Promise<T>,
): Promise<T> {
  installQuietRuntime();
  const { temporalAddress, workflowBundle } = testStack();
  const connection = await NativeConnection.connect({ address: temporalAddress });
  try {
    const worker = await Worker.create({ dataConverter: testDataConverter(), ...options, connection, workflowBundle: { codePath: workflowBundle } });
    return await worker.runUntil(() => fn(worker));
  } finally {
    await connection.close();
  }
}
