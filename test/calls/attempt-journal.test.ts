/**
 * The attempt journal (lib/nats/attempt-journal.ts) on real NATS KV, and the
 * real attempt activity over the fake vendor: an attempt made again because
 * its first run's report was lost reads the answer back — the vendor is
 * asked once, streamed or not — while a different question or a first try
 * asks the vendor as before.
 */
import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { connect, type NatsConnection } from 'nats';
import { createAttemptActivities } from '../../activities/attempts';
import { parseConfig, resolveSecrets } from '../../lib/config/load';
import { createLogger } from '../../lib/log';
import { attemptJournalKey, openAttemptJournal, type AttemptJournal } from '../../lib/nats/attempt-journal';
import { decodeStreamChunk, streamSubject } from '../../lib/nats/stream-chunks';
import { UpstreamPool } from '../../lib/upstreams/pool';
import type { AttemptInput } from '../../schemas/call';
import { startFakeVendor, type FakeVendor } from '../../services/fake-vendor';
import { installQuietRuntime, testStack } from '../harness/env';
import { switchboardConfig, testSecretsEnv, vendorConfig } from '../harness/switchboard';

let vendor: FakeVendor;
let nats: NatsConnection;
let journal: AttemptJournal;
let attemptCall: (input: AttemptInput) => ReturnType<ReturnType<typeof createAttemptActivities>['attemptCall']>;

beforeAll(async () => {
  installQuietRuntime();
  vendor = await startFakeVendor({ config: vendorConfig });
  nats = await connect({ servers: testStack().natsUrl });
  const log = createLogger({ level: 'silent' });
  journal = await openAttemptJournal(nats, log);
  const config = parseConfig(switchboardConfig(vendor.url));
  const pool = new UpstreamPool(config, resolveSecrets(config, testSecretsEnv));
  const activities = createAttemptActivities({
    config: () => config,
    pickHealthy: async (provider) => ({ upstream: pool.upstreams(provider)[0]!, mode: 'closed', reason: 'test', release: async () => undefined }),
    publishCallEvent: async () => undefined,
    nats,
    log,
    journal,
  });
  attemptCall = (input) => new MockActivityEnvironment().run(activities.attemptCall, input);
});
afterAll(async () => {
  await nats?.drain();
  await vendor?.close();
});

function attempt(marker: string, o: Partial<AttemptInput> = {}): AttemptInput {
  const workflowId = `journal-${randomUUID()}`;
  return {
    callId: workflowId,
    workflowId,
    attempt: 1,
    request: { route: 'solo-only', tenant: 't', stream: false, messages: [{ role: 'user', content: `Write a tagline (${marker})` }] },
    entry: { provider: 'solo', model: 'gpt-4o-mini', upstreamCount: 1 },
    exclude: [],
    attemptTimeoutMs: 10_000,
    ...o,
  };
}

const asked = (marker: string) => vendor.requests({ contains: [marker] }).length;

test('an attempt run again after its report was lost reads the answer back: the vendor is asked once', async () => {
  const marker = `journal-${randomUUID()}`;
  const first = attempt(marker);
  const answered = await attemptCall(first);
  expect(asked(marker)).toBe(1);
  // Kept without waiting for NATS: read it once it is there.
  for (let i = 0; i < 100 && !(await journal.read(first)); i++) await new Promise((r) => setTimeout(r, 20));

  // The same attempt again (a lost workflow task), and the next attempt after a lost one (new number, maybe another upstream).
  expect(await attemptCall({ ...first, readBack: true })).toEqual(answered);
  expect(await attemptCall({ ...first, attempt: 2, exclude: ['solo/org-s'], readBack: true })).toEqual(answered);
  expect(asked(marker)).toBe(1);
});

test('asks the vendor as before without readBack, and for another question', async () => {
  const marker = `journal-${randomUUID()}`;
  const first = attempt(marker);
  await attemptCall(first);
  for (let i = 0; i < 100 && !(await journal.read(first)); i++) await new Promise((r) => setTimeout(r, 20));
  await attemptCall(first);
  expect(asked(marker)).toBe(2);

  // A repair adds turns: another question of the same call.
  const repaired = {
    ...first,
    request: {
      ...first.request,
      messages: [...first.request.messages, { role: 'assistant' as const, content: 'x' }, { role: 'user' as const, content: 'Shorter.' }],
    },
    readBack: true,
  };
  expect(attemptJournalKey(repaired)).not.toBe(attemptJournalKey(first));
  await attemptCall(repaired);
  expect(asked(marker)).toBe(3);
});

test('a streamed answer is kept once it has ended: its re-run reads it back and streams nothing', async () => {
  const marker = `journal-${randomUUID()}`;
  const streamed = attempt(marker, { request: { route: 'solo-only', tenant: 't', stream: true, messages: [{ role: 'user', content: `Stream (${marker})` }] } });
  const deltas: string[] = [];
  const sub = nats.subscribe(streamSubject(streamed.callId), { callback: (_error, message) => deltas.push(decodeStreamChunk(message.data).type) });
  await nats.flush();
  const answered = await attemptCall(streamed);
  await nats.flush();
  const streamedDeltas = deltas.length;
  expect(streamedDeltas).toBeGreaterThan(0);
  for (let i = 0; i < 100 && !(await journal.read(streamed)); i++) await new Promise((r) => setTimeout(r, 20));

  expect(await attemptCall({ ...streamed, readBack: true })).toEqual(answered);
  await nats.flush();
  sub.unsubscribe();
  expect(asked(marker)).toBe(1);
  expect(deltas).toHaveLength(streamedDeltas);
});
