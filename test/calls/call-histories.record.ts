/**
 * Records the histories that test/calls/history-replay.test.ts replays: one
 * llmCall per path a call can take (answered, streamed, retried, waited out,
 * failed over, given up, cached), run on the real stack with the fake vendor,
 * payloads decoded (they hold only this file's fake prompts) and written to
 * test/fixtures/histories/<release>/<path>.pb. Not part of `make test`: run it when a
 * release changes llmCall's shape on purpose, with `make record-histories
 * RELEASE=<name>`, and keep the previous release's folder (docs/deploy.md,
 * "Upgrades").
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { testDataConverter } from '../harness/env';
import { startSwitchboard, type SwitchboardUnderTest } from '../harness/switchboard';

const release = process.env.SB_HISTORY_RELEASE;
const outDir = join(__dirname, '..', 'fixtures', 'histories', release ?? 'unnamed');

function isPayload(value: unknown): value is Payload {
  return typeof value === 'object' && value !== null && 'data' in value && 'metadata' in value && (value as Payload).data instanceof Uint8Array;
}

/** Decodes every payload in the history in place with the run's codec: fixtures need no key to replay. */
async function decodeInPlace(value: unknown): Promise<void> {
  if (isPayload(value)) {
    let payloads: Payload[] = [value];
    for (const codec of [...(testDataConverter().payloadCodecs ?? [])].reverse()) payloads = await codec.decode(payloads);
    value.metadata = payloads[0]!.metadata;
    value.data = payloads[0]!.data;
    return;
  }
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return;
  for (const item of Array.isArray(value) ? value : Object.values(value)) await decodeInPlace(item);
}

describe(`llmCall histories of release "${release}"`, () => {
  let t: SwitchboardUnderTest;
  beforeAll(async () => {
    if (!release) throw new Error('set SB_HISTORY_RELEASE (make record-histories RELEASE=<name>)');
    mkdirSync(outDir, { recursive: true });
    t = await startSwitchboard();
  });
  afterAll(async () => {
    await t?.close();
  });
  afterEach(() => t.vendor.clearFaults());

  async function record(name: string, run: (marker: string) => Promise<{ workflowId: string }>): Promise<void> {
    const marker = `history-${name}-${Date.now()}`;
    const { workflowId } = await run(marker);
    const history = await t.client.workflow.getHandle(workflowId).fetchHistory();
    await decodeInPlace(history);
    // Protobuf's binary form: what the server sent, read back by the same generated code (no JSON mapping to drift).
    writeFileSync(join(outDir, `${name}.pb`), temporal.api.history.v1.History.encode(history).finish());
  }

  async function settled(request: Parameters<SwitchboardUnderTest['sb']['start']>[0]): Promise<{ workflowId: string }> {
    const handle = await t.sb.start(request);
    await handle.result().catch(() => undefined);
    return handle;
  }

  const ask = (text: string) => [{ role: 'user' as const, content: text }];

  it('answered at once', () => record('answered', (m) => settled({ route: 'solo-only', messages: ask(`Hello ${m}`) })));

  it('answered as a stream', () => record('streamed', (m) => settled({ route: 'solo-only', stream: true, messages: ask(`Hello ${m}`) })));

  it('answered after a retry', () =>
    record('retried', (m) => {
      t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m, times: 2, fault: { kind: 'status', status: 503 } });
      return settled({ route: 'solo-only', messages: ask(`Hello ${m}`) });
    }));

  // Longer than retry.shortRetryAfterMs and no fallback: a durable timer.
  it('answered after a retry-after waited out', () =>
    record('waited', (m) => {
      t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m, times: 1, fault: { kind: 'rate_limit', retryAfterSeconds: 4 } });
      return settled({ route: 'solo-only', messages: ask(`Hello ${m}`) });
    }));

  it('answered by the fallback', () =>
    record('fallback', (m) => {
      t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m, fault: { kind: 'status', status: 503 } });
      return settled({ route: 'solo-fallback', messages: ask(`Hello ${m}`) });
    }));

  it('given up', () =>
    record('failed', (m) => {
      t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m, fault: { kind: 'status', status: 503 } });
      return settled({ route: 'solo-only', messages: ask(`Hello ${m}`) });
    }));

  it('answered from the cache', () =>
    record('cached', async (m) => {
      await settled({ route: 'cached', messages: ask(`Hello ${m}`) });
      return settled({ route: 'cached', messages: ask(`Hello ${m}`) });
    }));
});
