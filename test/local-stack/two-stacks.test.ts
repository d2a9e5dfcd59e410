/**
 * Two local stacks (`make up`'s code: Temporal, NATS, fake vendor, worker,
 * gateway) on different ports with the same config file: each gateway's call
 * reaches its own fake vendor and never the other's — the config's
 * `${FAKE_VENDOR_URL}` follows FAKE_VENDOR_PORT.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { findFreePorts } from '../../lib/ports';
import { startNodeServices, stopNodeServices, type NodeServices } from '../../services/local-stack/node-services';
import { startLocalStackOnFreePorts, stopLocalStack } from '../../services/local-stack/stack';
import { testStack } from '../harness/env';

jest.setTimeout(300_000);

interface RunningStack {
  dataDir: string;
  services: NodeServices;
}

const stacks: RunningStack[] = [];

async function startStack(name: string): Promise<RunningStack> {
  // Both stacks start at once: a port one of them found may be taken by the other's dev server before it binds it.
  const { stack, options } = await startLocalStackOnFreePorts({
    newDataDir: () => mkdtempSync(join(tmpdir(), `switchboard-${name}-`)),
    persist: false,
    readyTimeoutMs: 120_000,
  });
  const { dataDir } = options;
  const [fakeVendorPort, gatewayPort] = await findFreePorts(2);
  try {
    const services = await startNodeServices({
      dataDir,
      host: '127.0.0.1',
      fakeVendorPort: fakeVendorPort!,
      gatewayPort: gatewayPort!,
      temporalAddress: stack.temporalAddress,
      natsUrl: stack.natsUrl,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, SB_WORKFLOW_BUNDLE: testStack().workflowBundle },
      readyTimeoutMs: 180_000,
    });
    const running = { dataDir, services };
    stacks.push(running);
    return running;
  } catch (error) {
    await stopNodeServices(dataDir);
    await stopLocalStack(dataDir);
    throw error;
  }
}

async function vendorRequests(vendorUrl: string, contains: string): Promise<number> {
  const response = await fetch(`${vendorUrl}/_admin/requests?${new URLSearchParams({ contains, limit: '0' })}`);
  expect(response.ok).toBe(true);
  return ((await response.json()) as { count: number }).count;
}

afterAll(async () => {
  for (const { dataDir } of stacks) {
    await stopNodeServices(dataDir);
    await stopLocalStack(dataDir);
  }
});

test('two stacks on different ports, same config file: each calls only its own fake vendor', async () => {
  const [a, b] = await Promise.all([startStack('stack-a'), startStack('stack-b')]);
  const vendorA = a.services.fakeVendorUrl!;
  const vendorB = b.services.fakeVendorUrl!;
  expect(vendorA).not.toBe(vendorB);
  expect(a.services.configPath).toBe('config/switchboard.local.yaml');

  const markers = { a: `stack-a-marker-${Date.now().toString(36)}`, b: `stack-b-marker-${Date.now().toString(36)}` };
  for (const [stack, marker] of [
    [a, markers.a],
    [b, markers.b],
  ] as const) {
    const openai = new OpenAI({ baseURL: `${stack.services.gatewayUrl}/v1`, apiKey: 'sb-demo-key-acme', maxRetries: 0 });
    const completion = await openai.chat.completions.create({ model: 'chat-default', messages: [{ role: 'user', content: `Say hello (${marker})` }] });
    expect(completion.choices[0]?.message.content).toBeTruthy();
  }

  expect(await vendorRequests(vendorA, markers.a)).toBeGreaterThanOrEqual(1);
  expect(await vendorRequests(vendorB, markers.b)).toBeGreaterThanOrEqual(1);
  expect(await vendorRequests(vendorA, markers.b)).toBe(0);
  expect(await vendorRequests(vendorB, markers.a)).toBe(0);
});
