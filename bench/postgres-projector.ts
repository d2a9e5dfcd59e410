/**
 * How many rows/s the PostgreSQL projector sustains: a backlog of synthetic
 * interaction records (realistic sizes: a few hundred characters of input,
 * prompt and output) and feedback for some of them is put on JetStream first,
 * then a projector with a fresh consumer drains it into a fresh database;
 * the figure is rows written / drain time, per batch size. (The workflow path
 * makes ~10 calls/s on this machine, far too few to load the projector, hence
 * synthetic records.)
 *
 * Its own nats-server (SB_NATS_BIN, as `scripts/ensure-binaries.sh` sets it)
 * and its own PostgreSQL with fsync and synchronous commit ON (the harness's
 * durable mode), so the figure includes real commits.
 *
 *   npx tsx bench/postgres-projector.ts [--records 20000] [--batch-sizes 100,500,1000] [--feedback-ratio 0.3]
 *
 * Prints the figures and writes bench/results/postgres-projector.json with the machine described.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connect, JSONCodec, type NatsConnection } from 'nats';
import { createProjectionPool } from '../lib/interactions/postgres-connection';
import { projectorSources, startPostgresProjector } from '../lib/interactions/postgres-projector';
import { createLogger } from '../lib/log';
import { ensureStreams, streams } from '../lib/nats/streams';
import { findFreePort, waitFor } from '../lib/ports';
import type { Feedback, Interaction } from '../schemas/interaction';
import { PostgresProjectionConfig } from '../schemas/interaction-store';
import { startTestPostgres } from '../test/harness/postgres';
import { feedbackSubject, interactionSubject } from '../contracts/names';

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '20000' },
    'batch-sizes': { type: 'string', default: '100,500,1000' },
    'feedback-ratio': { type: 'string', default: '0.3' },
  },
});
const records = Number(args.records);
const batchSizes = args['batch-sizes'].split(',').map(Number);
const feedbackRatio = Number(args['feedback-ratio']);

const words = 'bakery headline florist slogan button pricing page signup newsletter transparent background summer sale'.split(' ');
const sentence = (n: number, seed: number) => Array.from({ length: n }, (_, i) => words[(seed * 7 + i * 3) % words.length]).join(' ');

function interaction(i: number, tenant: string): Interaction {
  const input = `Write a ${sentence(30, i)} #${i}`;
  return {
    callId: `call-bench-${i}`,
    at: Date.now(),
    tenant,
    user: `u-${i % 500}`,
    feature: ['headline', 'button', 'paragraph', 'image-alt'][i % 4]!,
    route: 'chat-default',
    provider: i % 5 ? 'openai' : 'anthropic',
    model: i % 5 ? 'gpt-4o-mini' : 'claude-haiku-4-5',
    upstream: i % 5 ? `openai/org-${'abc'[i % 3]}` : 'anthropic/org-a',
    promptVariant: 'assistant/default',
    input,
    promptAsSent: `system: You are a concise assistant. ${sentence(60, i + 1)}\nuser: ${input}`,
    output: sentence(70, i + 2),
    attempts: 1 + (i % 7 === 0 ? 1 : 0),
    latencyMs: 300 + (i % 900),
    ttftMs: 80 + (i % 200),
    inputTokens: 180 + (i % 50),
    outputTokens: 90 + (i % 40),
    costUsd: 0.000081,
    language: 'en',
    cacheHit: i % 11 === 0,
    validation: 'passed',
  };
}

async function startNats(dir: string): Promise<{ url: string; stop(): Promise<void> }> {
  const bin = process.env.SB_NATS_BIN ?? 'nats-server';
  const port = await findFreePort();
  const child = spawn(bin, ['-js', '-sd', join(dir, 'jetstream'), '-a', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const url = `nats://127.0.0.1:${port}`;
  await waitFor(
    'nats-server',
    async () => {
      const nc = await connect({ servers: url, reconnect: false });
      await nc.close();
      return true;
    },
    20_000,
  );
  return {
    url,
    stop: () => new Promise((resolve) => (child.exitCode !== null ? resolve() : (child.once('exit', () => resolve()), child.kill('SIGTERM')))),
  };
}

async function publishBacklog(nc: NatsConnection): Promise<{ interactions: number; feedback: number; bytes: number }> {
  const js = nc.jetstream();
  const codec = JSONCodec<unknown>();
  let bytes = 0;
  let feedback = 0;
  const chunk = 500;
  for (let start = 0; start < records; start += chunk) {
    const pending: Array<Promise<unknown>> = [];
    for (let i = start; i < Math.min(start + chunk, records); i++) {
      const data = codec.encode(interaction(i, 'bench'));
      bytes += data.length;
      pending.push(js.publish(interactionSubject('bench'), data));
      if ((i * 7919) % 1000 < feedbackRatio * 1000) {
        const verdict: Feedback = { callId: `call-bench-${i}`, tenant: 'bench', inserted: i % 3 !== 0, at: Date.now() };
        pending.push(js.publish(feedbackSubject('bench'), codec.encode(verdict)));
        feedback += 1;
      }
    }
    await Promise.all(pending);
  }
  return { interactions: records, feedback, bytes };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-projector-'));
  const nats = await startNats(dir);
  const pg = await startTestPostgres({ durable: true });
  const nc = await connect({ servers: nats.url });
  const log = createLogger({ level: 'warn', name: 'bench' });
  const results: Array<Record<string, number>> = [];
  try {
    await ensureStreams(nc);
    const backlog = await publishBacklog(nc);
    console.log(
      `backlog: ${backlog.interactions} interactions (${Math.round(backlog.bytes / backlog.interactions)} bytes each), ${backlog.feedback} feedback events`,
    );
    const pgVersion = (await pg.query<{ v: string }>('postgres', "SELECT current_setting('server_version') AS v"))[0]?.v;
    for (const batchSize of batchSizes) {
      const database = await pg.createDatabase(`bench_${batchSize}`).then(() => `bench_${batchSize}`);
      const pool = createProjectionPool({ url: pg.url(database), log });
      const config = PostgresProjectionConfig.parse({ enabled: true, consumer: `bench_${batchSize}`, batchSize });
      const startedAt = performance.now();
      const cpuBefore = process.cpuUsage();
      const projector = await startPostgresProjector({ nats: nc, pool, config, log });
      await waitFor(
        'the drain',
        async () => {
          const s = projector.stats();
          return s.interactions >= backlog.interactions && s.feedback >= backlog.feedback;
        },
        600_000,
        20,
      );
      const seconds = (performance.now() - startedAt) / 1_000;
      const cpu = process.cpuUsage(cpuBefore);
      const stats = projector.stats();
      await projector.stop();
      await pool.end();
      const rows = stats.interactions + stats.feedback;
      const stored = await pg.query<{ n: number }>(database, 'SELECT count(*)::int AS n FROM interactions');
      if (stored[0]?.n !== backlog.interactions) throw new Error(`expected ${backlog.interactions} rows, found ${stored[0]?.n}`);
      const result = {
        batchSize,
        rows,
        seconds: Number(seconds.toFixed(2)),
        rowsPerSecond: Math.round(rows / seconds),
        interactionsPerSecond: Math.round(stats.interactions / seconds),
        batches: stats.batches,
        writeShare: Number((stats.writeMs / 1_000 / seconds).toFixed(2)),
        projectorCpuMsPerRow: Number(((cpu.user + cpu.system) / 1_000 / rows).toFixed(3)),
      };
      results.push(result);
      console.log(
        `batch ${batchSize}: ${rows} rows in ${result.seconds} s = ${result.rowsPerSecond} rows/s (${result.interactionsPerSecond} interactions/s), ${stats.batches} batches, ${Math.round(result.writeShare * 100)}% of the time in PostgreSQL transactions (both streams summed), projector CPU ${result.projectorCpuMsPerRow} ms/row`,
      );
      const jsm = await nc.jetstreamManager();
      for (const source of projectorSources(config)) await jsm.consumers.delete(source.stream, source.durable);
    }
    mkdirSync('bench/results', { recursive: true });
    writeFileSync(
      'bench/results/postgres-projector.json',
      `${JSON.stringify(
        {
          benchmark: 'postgres-projector',
          date: new Date().toISOString(),
          machine: {
            cpu: cpus()[0]?.model ?? 'unknown',
            cores: cpus().length,
            memoryGiB: Math.round(totalmem() / 2 ** 30),
            node: process.version,
            platform: `${process.platform}-${process.arch}`,
            loadAverageAtEnd: loadavg(),
            postgres: pgVersion,
            postgresDurable: true,
            sameMachine: 'nats-server, PostgreSQL and the projector share the cores',
          },
          backlog,
          streams: [streams.interactions.name, streams.feedback.name],
          results,
        },
        null,
        2,
      )}\n`,
    );
    console.log('wrote bench/results/postgres-projector.json');
  } finally {
    await nc.close().catch(() => undefined);
    await pg.destroy();
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
