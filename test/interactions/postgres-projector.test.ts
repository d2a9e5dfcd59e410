/**
 * The PostgreSQL projection on the real stack: Temporal and NATS from the
 * harness, the fake vendor over HTTP, real llmCall workflows, the gateway's
 * /v1/feedback, and a real PostgreSQL started for this file only.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import { JSONCodec } from 'nats';
import type { Pool } from 'pg';
import { createProjectionPool, postgresUrlSecrets } from '../../lib/interactions/postgres-connection';
import { projectorSources, startPostgresProjector, type PostgresProjector } from '../../lib/interactions/postgres-projector';
import { createLogger } from '../../lib/log';
import { streams } from '../../lib/nats/streams';
import { PostgresProjectionConfig } from '../../schemas/interaction-store';
import { Interaction, type Feedback } from '../../schemas/interaction';
import { callWorkflowId, feedbackSubject, interactionSubject } from '../../contracts/names';
import { startGateway, tenantKeys, type GatewayUnderTest } from '../harness/gateway';
import { startTestPostgres, type TestPostgres } from '../harness/postgres';
import { eventually, switchboardConfig } from '../harness/switchboard';
import { writeConfigFile } from '../harness/worker-process';
import { findFreePort } from '../../lib/ports';

jest.setTimeout(180_000);

const PASSWORD = `pg-pw-${randomUUID().slice(0, 8)}`;
const codec = JSONCodec<unknown>();

let pg: TestPostgres;
let t: GatewayUnderTest;

beforeAll(async () => {
  pg = await startTestPostgres();
  t = await startGateway();
});

afterAll(async () => {
  await t?.close();
  await pg?.destroy();
});

interface RunningProjector {
  projector: PostgresProjector;
  pool: Pool;
  logs: () => string;
  close(): Promise<void>;
}

/** A projector in this process on `database`, with its own consumers, logging at debug into a buffer. */
async function startProjector(database: string, consumer = `t_${randomUUID().slice(0, 8)}`): Promise<RunningProjector> {
  const url = pg.url(database, PASSWORD);
  const lines: string[] = [];
  const log = createLogger({ level: 'debug', destination: new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString()), done()) }) });
  const pool = createProjectionPool({ url, log });
  const config = PostgresProjectionConfig.parse({ enabled: true, consumer, batchSize: 50, initialBackoffMs: 50, maxBackoffMs: 500 });
  const projector = await startPostgresProjector({ nats: t.nats, pool, config, log, secrets: postgresUrlSecrets(url) });
  return {
    projector,
    pool,
    logs: () => lines.join(''),
    async close() {
      await projector.stop();
      await pool.end();
      const jsm = await t.nats.jetstreamManager();
      for (const source of projectorSources(config)) await jsm.consumers.delete(source.stream, source.durable).catch(() => undefined);
    },
  };
}

async function newDatabase(): Promise<string> {
  const name = `sb_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  await pg.createDatabase(name);
  return name;
}

const rowsFor = (database: string, callIds: string[]) =>
  pg.query<Record<string, unknown>>(database, 'SELECT * FROM interactions WHERE call_id = ANY($1) ORDER BY call_id', [callIds]).catch(() => []);

async function call(feature: string, content: string, idempotencyKey?: string) {
  return t.sb.complete({
    route: 'chat-default',
    tenant: 'acme',
    user: 'u-pg',
    feature,
    messages: [{ role: 'user', content }],
    ...(idempotencyKey ? { idempotencyKey } : {}),
  });
}

async function giveFeedback(callId: string, inserted: boolean, note?: string) {
  const response = await fetch(`${t.url}/v1/feedback`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tenantKeys.acme}`, 'content-type': 'application/json' },
    body: JSON.stringify({ callId, inserted, ...(note ? { note } : {}) }),
  });
  expect(response.status).toBe(202);
}

/** The interaction records on the stream for these calls, as the activity published them. */
async function recordsOnStream(callIds: string[]): Promise<Map<string, unknown>> {
  const consumer = await t.nats.jetstream().consumers.get(streams.interactions.name);
  const last = (await (await t.nats.jetstreamManager()).streams.info(streams.interactions.name)).state.last_seq;
  const found = new Map<string, unknown>();
  for await (const message of await consumer.fetch({ max_messages: 100_000, expires: 5_000 })) {
    const raw = codec.decode(message.data);
    const parsed = Interaction.safeParse(raw);
    if (parsed.success && callIds.includes(parsed.data.callId)) found.set(parsed.data.callId, raw);
    if (message.seq >= last) break;
  }
  return found;
}

describe('PostgreSQL projection of interactions and feedback', () => {
  it('writes one row per call with every field of its interaction record', async () => {
    const database = await newDatabase();
    const p = await startProjector(database);
    try {
      const feature = `pg-fields-${randomUUID().slice(0, 6)}`;
      const results = [];
      for (const text of ['Write a headline for a bakery', 'Write a slogan for a florist']) results.push(await call(feature, text));
      const ids = results.map((r) => r.callId).sort();
      const rows = await eventually(
        'both interaction rows',
        async () => ((await rowsFor(database, ids)).length === 2 ? rowsFor(database, ids) : undefined),
        60_000,
      );
      const records = await recordsOnStream(ids);
      for (const row of rows) {
        const result = results.find((r) => r.callId === row.call_id)!;
        const record = Interaction.parse(records.get(result.callId));
        expect(row).toMatchObject({
          tenant: 'acme',
          user_id: 'u-pg',
          feature,
          route: 'chat-default',
          provider: result.provider,
          model: result.model,
          upstream: result.upstream,
          prompt_variant: result.promptVariant,
          input: record.input,
          prompt_as_sent: record.promptAsSent,
          output: result.text,
          enhanced_prompt: record.enhancedPrompt ?? null,
          attempts: result.attempts.length,
          latency_ms: record.latencyMs,
          ttft_ms: record.ttftMs ?? null,
          input_tokens: result.usage.inputTokens,
          output_tokens: result.usage.outputTokens,
          language: 'en',
          cache_hit: false,
          validation: result.validation,
          inserted: null,
        });
        expect(row.input).toMatch(/^Write a (headline|slogan)/);
        expect(row.prompt_as_sent).toContain('system: You are a concise assistant.');
        expect(Number(row.cost_usd)).toBeCloseTo(result.costUsd!, 9);
        expect(Number(row.cost_usd)).toBeGreaterThan(0);
        expect((row.finished_at as Date).getTime()).toBe(record.at);
        expect(row.raw).toEqual(records.get(result.callId));
      }
      const migrations = await pg.query(database, 'SELECT version FROM sb_schema_migrations ORDER BY version');
      expect(migrations).toEqual([{ version: 1 }, { version: 2 }]);
    } finally {
      await p.close();
    }
  });

  it('joins feedback to its interaction: the latest verdict on the row, every verdict in feedback, in either arrival order', async () => {
    const database = await newDatabase();
    const p = await startProjector(database);
    try {
      const feature = `pg-feedback-${randomUUID().slice(0, 6)}`;
      const first = await call(feature, 'Write a button text for a newsletter signup');
      await eventually('the interaction row', async () => ((await rowsFor(database, [first.callId])).length === 1 ? true : undefined), 60_000);
      await giveFeedback(first.callId, false, 'too long');
      await eventually(
        'the first verdict on the row',
        async () => ((await rowsFor(database, [first.callId]))[0]?.inserted === false ? true : undefined),
        30_000,
      );
      await giveFeedback(first.callId, true);
      const [row] = await eventually(
        'the latest verdict on the row',
        async () => {
          const rows = await rowsFor(database, [first.callId]);
          return rows[0]?.inserted === true ? rows : undefined;
        },
        30_000,
      );
      expect(row).toMatchObject({ inserted: true, feedback_note: null });
      const verdicts = await pg.query(database, 'SELECT inserted, note, tenant FROM feedback WHERE call_id = $1 ORDER BY given_at', [first.callId]);
      expect(verdicts).toEqual([
        { inserted: false, note: 'too long', tenant: 'acme' },
        { inserted: true, note: null, tenant: 'acme' },
      ]);

      // Another tenant's verdict on this call id (the gateway refuses it; the projection must not trust it either).
      const foreign: Feedback = { callId: first.callId, tenant: 'globex', inserted: false, note: 'not yours', at: Date.now() };
      await t.nats.jetstream().publish(feedbackSubject('globex'), codec.encode(foreign));
      await eventually(
        'the foreign verdict stored',
        async () =>
          (await pg.query(database, 'SELECT 1 FROM feedback WHERE call_id = $1 AND tenant = $2', [first.callId, 'globex'])).length === 1 ? true : undefined,
        30_000,
      );
      expect((await rowsFor(database, [first.callId]))[0]).toMatchObject({ inserted: true });

      // A verdict that lands before its interaction: the call id is known up front from the idempotency key.
      const key = `pg-early-${randomUUID().slice(0, 8)}`;
      const earlyId = callWorkflowId('acme', key, () => 'unused');
      const early: Feedback = { callId: earlyId, tenant: 'acme', inserted: true, note: 'early', at: Date.now() };
      await t.nats.jetstream().publish(feedbackSubject('acme'), codec.encode(early));
      await eventually(
        'the early verdict stored',
        async () => ((await pg.query(database, 'SELECT 1 FROM feedback WHERE call_id = $1', [earlyId])).length === 1 ? true : undefined),
        30_000,
      );
      const later = await call(feature, 'Write a heading for a pricing page', key);
      expect(later.callId).toBe(earlyId);
      const [joined] = await eventually(
        'the late interaction with its early verdict',
        async () => {
          const rows = await rowsFor(database, [earlyId]);
          return rows.length === 1 ? rows : undefined;
        },
        60_000,
      );
      expect(joined).toMatchObject({ inserted: true, feedback_note: 'early' });
    } finally {
      await p.close();
    }
  });

  it('does not duplicate on redelivery: a second consumer replaying both streams, a record published twice', async () => {
    const database = await newDatabase();
    const p = await startProjector(database);
    const feature = `pg-redeliver-${randomUUID().slice(0, 6)}`;
    const results = [await call(feature, 'Write a headline for a bike shop'), await call(feature, 'Write a headline for a tea room')];
    const ids = results.map((r) => r.callId);
    await giveFeedback(ids[0]!, true);
    await eventually(
      'rows and verdict',
      async () => ((await rowsFor(database, ids)).filter((r) => r.call_id !== ids[0] || r.inserted === true).length === 2 ? true : undefined),
      60_000,
    );
    await eventually('first projector caught up', async () => (Object.values(await p.projector.backlog()).every((n) => n === 0) ? true : undefined), 30_000);
    await p.close();
    // Other suites keep publishing to the shared streams: count only what was on them before the replay (their stream
    // sequence numbers); a redelivered message keeps its sequence, a new one comes after.
    const maxSeq = async (table: 'interactions' | 'feedback') =>
      (await pg.query<{ n: string }>(database, `SELECT coalesce(max(stream_seq), 0) AS n FROM ${table}`))[0]!.n;
    const seen = { interactions: await maxSeq('interactions'), feedback: await maxSeq('feedback') };
    const count = async () =>
      (await pg.query<{ n: string }>(database, 'SELECT count(*) AS n FROM interactions WHERE stream_seq <= $1', [seen.interactions]))[0]!.n;
    const feedbackCount = async () =>
      (await pg.query<{ n: string }>(database, 'SELECT count(*) AS n FROM feedback WHERE stream_seq <= $1', [seen.feedback]))[0]!.n;
    const before = { interactions: await count(), feedback: await feedbackCount() };

    // A new durable consumer starts from the beginning of both streams: every message is delivered again.
    const replay = await startProjector(database);
    try {
      await eventually('the replay caught up', async () => (Object.values(await replay.projector.backlog()).every((n) => n === 0) ? true : undefined), 90_000);
      expect(replay.projector.stats().interactions).toBeGreaterThanOrEqual(2);
      expect({ interactions: await count(), feedback: await feedbackCount() }).toEqual(before);
      expect((await pg.query(database, 'SELECT count(*)::int AS n FROM feedback WHERE call_id = $1', [ids[0]]))[0]).toEqual({ n: 1 });

      // The same record published again under another msgID: still one row, now from the later message.
      const [record] = [...(await recordsOnStream([ids[1]!])).values()];
      const seqBefore = (await rowsFor(database, [ids[1]!]))[0]!.stream_seq;
      await t.nats.jetstream().publish(interactionSubject('acme'), codec.encode(record), { msgID: `republish-${randomUUID()}` });
      await eventually(
        'the republished record projected',
        async () => ((await rowsFor(database, [ids[1]!]))[0]!.stream_seq !== seqBefore ? true : undefined),
        30_000,
      );
      expect(await rowsFor(database, ids)).toHaveLength(2);
      expect((await rowsFor(database, [ids[0]!]))[0]).toMatchObject({ inserted: true });
    } finally {
      await replay.close();
    }
  });

  it('holds the backlog un-acked while PostgreSQL is down and delivers all of it after the restart', async () => {
    const database = await newDatabase();
    const p = await startProjector(database);
    try {
      const feature = `pg-outage-${randomUUID().slice(0, 6)}`;
      const warmup = await call(feature, 'Write a headline for a bookshop');
      await eventually('the warm-up row', async () => ((await rowsFor(database, [warmup.callId])).length === 1 ? true : undefined), 60_000);

      await pg.stop();
      const during = [];
      for (const text of ['Write a tagline for a gym', 'Write a tagline for a dentist', 'Write a tagline for a bakery']) during.push(await call(feature, text));
      const failing = await eventually(
        'writes failing against the stopped server',
        () => (p.projector.stats().writeFailures > 0 && p.projector.stats().held > 0 ? p.projector.stats() : undefined),
        30_000,
      );
      expect(failing.databaseUp).toBe(false);
      // Nothing acked: JetStream still counts the outage's records as pending for this consumer.
      expect((await p.projector.backlog())[streams.interactions.name]).toBeGreaterThanOrEqual(during.length);

      await pg.start();
      const ids = during.map((r) => r.callId);
      const rows = await eventually(
        'the outage backlog in PostgreSQL',
        async () => ((await rowsFor(database, ids)).length === ids.length ? rowsFor(database, ids) : undefined),
        60_000,
      );
      expect(rows.map((r) => r.output).sort()).toEqual(during.map((r) => r.text).sort());
      await eventually('the consumer caught up', async () => (Object.values(await p.projector.backlog()).every((n) => n === 0) ? true : undefined), 30_000);
      expect(p.projector.stats().databaseUp).toBe(true);
      expect(p.logs()).toContain('PostgreSQL write failed');
      expect(p.logs()).toContain('PostgreSQL is back');
      expect(p.logs()).not.toContain(PASSWORD);
    } finally {
      await p.close();
    }
  });

  it('keeps poisoned messages in projection_rejects and goes on projecting', async () => {
    const database = await newDatabase();
    const p = await startProjector(database);
    try {
      const feature = `pg-poison-${randomUUID().slice(0, 6)}`;
      const valid = await call(feature, 'Write a headline for a hardware store');
      const [record] = [...(await recordsOnStream([valid.callId])).values()] as Array<Record<string, unknown>>;
      const js = t.nats.jetstream();
      const notJson = await js.publish(interactionSubject('acme'), new TextEncoder().encode(`{"callId": "${feature}-broken"`));
      // Passes the schema, but PostgreSQL refuses it as data (integer out of range): only this message may become a reject.
      const tooBig = await js.publish(interactionSubject('acme'), codec.encode({ ...record, callId: `${feature}-huge`, inputTokens: 3_000_000_000 }));
      const withNul = `${feature}-nul`;
      await js.publish(interactionSubject('acme'), codec.encode({ ...record, callId: withNul, input: 'before\u0000after' }));
      const after = await call(feature, 'Write a headline for a garden centre');

      await eventually(
        'every valid row, the NUL one included',
        async () => ((await rowsFor(database, [valid.callId, withNul, after.callId])).length === 3 ? true : undefined),
        60_000,
      );
      expect((await rowsFor(database, [withNul]))[0]!.input).toBe('before\uFFFDafter');
      const rejects = await eventually(
        'both rejects',
        async () => {
          const rows = await pg.query<{ stream_seq: string; error: string }>(
            database,
            'SELECT stream_seq, error FROM projection_rejects WHERE stream_seq = ANY($1) ORDER BY stream_seq',
            [[notJson.seq, tooBig.seq]],
          );
          return rows.length === 2 ? rows : undefined;
        },
        30_000,
      );
      expect(rejects[0]!.error).toMatch(/^not JSON/);
      expect(rejects[1]!.error).toMatch(/^refused by PostgreSQL: 22003 .*out of range/);
      expect(await rowsFor(database, [`${feature}-huge`])).toEqual([]);
    } finally {
      await p.close();
    }
  });

  it('runs as its own process: refuses to start without its URL, projects, survives a restart, never logs the password', async () => {
    const database = await newDatabase();
    const consumer = `t_proc_${randomUUID().slice(0, 8)}`;
    const configPath = writeConfigFile(
      switchboardConfig(t.vendor.url, { interactions: { postgres: { enabled: true, consumer, initialBackoffMs: 50, maxBackoffMs: 500 } } }),
    );
    const healthPort = await findFreePort();
    const run = (env: Record<string, string>) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'services/projector/main.ts'], {
        cwd: resolve(__dirname, '../..'),
        env: { PATH: process.env.PATH, HOME: process.env.HOME, SB_CONFIG: configPath, NATS_URL: process.env.NATS_URL, LOG_LEVEL: 'debug', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const exited = new Promise<number | string>((done) => child.once('exit', (code, signal) => done(code ?? signal ?? 'unknown')));
      return { child, output: () => output, exited };
    };

    const noUrl = run({});
    expect(await noUrl.exited).toBe(1);
    expect(noUrl.output()).toContain('missing SB_POSTGRES_URL in the environment (interactions.postgres.urlEnv)');

    const projector = run({ SB_POSTGRES_URL: pg.url(database, PASSWORD), SB_HEALTH_PORT: String(healthPort) });
    try {
      await eventually('the projector process running', () => (projector.output().includes('projector running') ? true : undefined), 30_000);
      expect(projector.output()).toContain(`postgres://postgres@127.0.0.1:${pg.port}/${database}`);
      const feature = `pg-process-${randomUUID().slice(0, 6)}`;
      const before = await call(feature, 'Write a headline for a cinema');
      await eventually('the row from the process', async () => ((await rowsFor(database, [before.callId])).length === 1 ? true : undefined), 60_000);

      await pg.stop();
      const during = await call(feature, 'Write a headline for a museum');
      await eventually('the write failure logged', () => (projector.output().includes('PostgreSQL write failed') ? true : undefined), 30_000);
      expect((await fetch(`http://127.0.0.1:${healthPort}/readyz`)).status).toBe(503);
      await pg.start();
      await eventually('the outage row from the process', async () => ((await rowsFor(database, [during.callId])).length === 1 ? true : undefined), 60_000);
      await eventually('ready again', async () => ((await fetch(`http://127.0.0.1:${healthPort}/readyz`)).status === 200 ? true : undefined), 30_000);
      const metrics = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
      expect(Number(/sb_projector_rows_total\{table="interactions"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2);
      expect(Number(/sb_projector_write_failures_total (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
    } finally {
      projector.child.kill('SIGTERM');
      expect(await projector.exited).toBe(0);
      const jsm = await t.nats.jetstreamManager();
      for (const source of projectorSources(PostgresProjectionConfig.parse({ consumer })))
        await jsm.consumers.delete(source.stream, source.durable).catch(() => undefined);
    }
    expect(projector.output()).toContain('projector stopped');
    expect(projector.output()).not.toContain(PASSWORD);
  });
});
