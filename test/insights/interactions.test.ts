/**
 * Interactions, feedback, reports and the insights job on the real stack:
 * synthetic traffic through the fake vendor in which inputs mentioning
 * "transparent" are almost always rejected and the button feature's answers
 * are too long; feedback through the typed client and the gateway; the
 * reports from the gateway and the CLI; the job run from the CLI.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { JSONCodec } from 'nats';
import { createSwitchboardClient, isSwitchboardRequestError, type SwitchboardClient } from '../../lib/client';
import { resolveSecrets } from '../../lib/config/load';
import { loadJudgedInteractions } from '../../lib/interactions/load';
import { createLogger } from '../../lib/log';
import type { LlmResult } from '../../schemas/llm';
import { hashApiKey } from '../../services/gateway/tenants';
import { createSwitchboardWorker, type SwitchboardWorker } from '../../services/worker/worker';
import { INSIGHTS_SUBJECT } from '../../contracts/names';
import { testDataConverter, testStack } from '../harness/env';
import { startGateway, type GatewayUnderTest } from '../harness/gateway';
import { startSwitchboard, switchboardConfig, testSecretsEnv, type SwitchboardUnderTest } from '../harness/switchboard';
import { serviceEnv, writeConfigFile } from '../harness/worker-process';

const run = randomUUID().slice(0, 8);
const tenantA = `ins-a-${run}`;
const tenantB = `ins-b-${run}`;
const keyA = `sk-sb-test-ins-a-${run}`;
const keyB = `sk-sb-test-ins-b-${run}`;
// Markers in every prompt, so the vendor's request log can be asked for each tenant's calls ('q' is never in a hex run id).
const marker = `qa${run}`;
const markerB = `qb${run}`;
const PRICE = { input: 0.15, output: 0.6 }; // gpt-4o-mini in the test config, USD per million tokens

interface Sent {
  result: LlmResult;
  user: string;
  feature: string;
  language: 'en' | 'ja';
  /** undefined: no feedback */
  inserted?: boolean;
}

const subjects = ['a red bicycle', 'a mountain lake', 'a city skyline', 'a bowl of fruit', 'an old lighthouse', 'a cat on a sofa'];

/** The traffic plan: deterministic, so the expected rates are exact. */
function plan(): Array<{ feature: string; user: string; content: string; language: 'en' | 'ja'; inserted?: boolean }> {
  const calls: ReturnType<typeof plan> = [];
  let plain = 0;
  for (let i = 0; i < 40; i++) {
    const subject = subjects[i % subjects.length]!;
    const transparent = i % 4 === 0;
    // transparent: 9 of 10 rejected; the other 30: 3 rejected
    const inserted = transparent ? i === 0 : plain++ % 10 !== 3;
    const content = transparent
      ? `Draw ${subject} on a transparent background ${marker} [[tokens:12]]`
      : `Draw ${subject} in watercolour ${marker} [[tokens:12]]`;
    calls.push({ feature: 'image', user: `u-${i % 3}`, content, language: 'en', inserted });
  }
  for (let j = 0; j < 16; j++) {
    const long = j % 2 === 0;
    // long answers: 7 of 8 rejected; short ones: 1 of 8
    calls.push({
      feature: 'button',
      user: 'u-btn',
      content: `Button text for the bakery signup page ${marker} ${long ? '[[tokens:60]]' : '[[tokens:3]]'}`,
      language: 'en',
      inserted: long ? j === 0 : j !== 1,
    });
  }
  for (let k = 0; k < 4; k++)
    calls.push({ feature: 'headline', user: 'u-ja', content: `パン屋の見出しを書いてください ${marker} [[tokens:5]]`, language: 'ja' });
  return calls;
}

async function inBatches<T, R>(items: T[], size: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map((item, k) => fn(item, i + k)))));
  return out;
}

const costOf = (results: LlmResult[]) => results.reduce((sum, r) => sum + (r.usage.inputTokens * PRICE.input + r.usage.outputTokens * PRICE.output) / 1e6, 0);

function startWebhook(): Promise<{ server: Server; url: string; bodies: unknown[] }> {
  const bodies: unknown[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      bodies.push(JSON.parse(text));
      res.writeHead(200).end('ok');
    });
  });
  return new Promise((done) =>
    server.listen(0, '127.0.0.1', () => done({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies })),
  );
}

function runCli(args: string[], configPath: string, taskQueue: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/cli/main.ts', ...args], {
    cwd: resolve(__dirname, '../..'),
    env: serviceEnv({ configPath, taskQueue }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((done) => child.once('exit', (code) => done({ code, stdout, stderr })));
}

describe('interactions, feedback, reports and the insights job', () => {
  let t: GatewayUnderTest;
  let job: SwitchboardUnderTest;
  let jobWorker: SwitchboardWorker;
  let jobWorkerRunning: Promise<void>;
  let webhook: Awaited<ReturnType<typeof startWebhook>>;
  let sb: SwitchboardClient;
  const reportDir = mkdtempSync(join(tmpdir(), 'sb-insights-'));
  const startedAt = Date.now() - 1_000;
  const sentA: Sent[] = [];
  const sentB: LlmResult[] = [];

  const feedbackOverHttp = (callId: string, inserted: boolean, key = keyA, note?: string) =>
    fetch(`${t.url}/v1/feedback`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ callId, inserted, ...(note ? { note } : {}) }),
    });
  const report = (path: string, key = keyA) => fetch(`${t.url}${path}`, { headers: { authorization: `Bearer ${key}` } });

  beforeAll(async () => {
    webhook = await startWebhook();
    t = await startGateway({
      gateway: {
        tenants: [
          { id: tenantA, keys: [{ name: 'a', sha256: hashApiKey(keyA) }] },
          { id: tenantB, keys: [{ name: 'b', sha256: hashApiKey(keyB) }] },
        ],
      },
    });
    // The job runs on a Switchboard of its own, whose only worker posts to the test's webhook.
    job = await startSwitchboard({ withWorker: false, configOverrides: { insights: { reportDir, naming: { enabled: true, route: 'solo-only' } } } });
    const { temporalAddress, natsUrl, workflowBundle } = testStack();
    jobWorker = await createSwitchboardWorker({
      config: job.config,
      secrets: resolveSecrets(job.config, testSecretsEnv),
      temporalAddress,
      natsUrl,
      taskQueue: job.taskQueue,
      log: createLogger({ level: 'silent' }),
      workflowBundlePath: workflowBundle,
      controlBucket: job.controlBucket,
      cluster: job.taskQueue,
      insightsWebhookUrl: webhook.url,
      dataConverter: testDataConverter(),
    });
    jobWorkerRunning = jobWorker.run();
    sb = createSwitchboardClient({ client: t.client, taskQueue: t.taskQueue, nats: t.nats });

    const results = await inBatches(plan(), 8, async (call) => {
      const result = await sb.complete({
        route: 'solo-only',
        tenant: tenantA,
        user: call.user,
        feature: call.feature,
        messages: [{ role: 'user', content: call.content }],
      });
      return { result, user: call.user, feature: call.feature, language: call.language, ...(call.inserted !== undefined ? { inserted: call.inserted } : {}) };
    });
    sentA.push(...results);
    sentB.push(
      ...(await inBatches([0, 1, 2, 3], 4, (i) =>
        sb.complete({
          route: 'solo-only',
          tenant: tenantB,
          user: 'u-b',
          feature: 'image',
          messages: [{ role: 'user', content: `Draw logo ${i} on a transparent background ${markerB} [[tokens:12]]` }],
        }),
      )),
    );
    // Half the verdicts through the typed client, half through the gateway.
    const judged = sentA.filter((s) => s.inserted !== undefined);
    // The first call's caller changes its mind: the later verdict must win.
    await sb.feedback(judged[0]!.result.callId, { tenant: tenantA, inserted: !judged[0]!.inserted });
    await inBatches(judged, 8, async (s, index) => {
      if (index % 2 === 0) await sb.feedback(s.result.callId, { tenant: tenantA, inserted: s.inserted!, ...(index === 0 ? { note: 'second thoughts' } : {}) });
      else expect((await feedbackOverHttp(s.result.callId, s.inserted!)).status).toBe(202);
    });
  }, 240_000);

  afterAll(async () => {
    jobWorker?.shutdown();
    await jobWorkerRunning?.catch(() => undefined);
    await job?.close();
    await t?.close();
    webhook?.server.close();
    rmSync(reportDir, { recursive: true, force: true });
  });

  it('joins each verdict to its interaction; the latest verdict wins', async () => {
    const loaded = await loadJudgedInteractions(t.nats, { tenant: tenantA, sinceMs: startedAt, untilMs: Date.now() });
    expect(loaded.interactions).toHaveLength(60);
    const byCall = new Map(loaded.interactions.map((i) => [i.callId, i]));
    for (const s of sentA) {
      const interaction = byCall.get(s.result.callId);
      expect(interaction).toMatchObject({ tenant: tenantA, user: s.user, feature: s.feature, language: s.language, inputTokens: s.result.usage.inputTokens });
      expect(interaction!.inserted).toBe(s.inserted);
    }
    const first = sentA.find((s) => s.inserted !== undefined)!;
    expect(byCall.get(first.result.callId)).toMatchObject({ inserted: first.inserted, note: 'second thoughts' });
  });

  it("rejects feedback on unknown calls and on another tenant's calls, and records nothing for them", async () => {
    const callOfB = sentB[0]!.callId;
    const rejection = await sb.feedback('call-does-not-exist', { tenant: tenantA, inserted: true }).catch((error: unknown) => error);
    expect(isSwitchboardRequestError(rejection) && rejection.field).toBe('callId');
    const crossTenant = await sb.feedback(callOfB, { tenant: tenantA, inserted: false }).catch((error: unknown) => error);
    expect(isSwitchboardRequestError(crossTenant) && crossTenant.field).toBe('callId');
    expect((await feedbackOverHttp('call-does-not-exist', true)).status).toBe(404);
    const http = await feedbackOverHttp(callOfB, false);
    expect(http.status).toBe(404);
    expect(await http.json()).toMatchObject({ error: { code: 'call_not_found', param: 'callId' } });
    // B's own key may judge it; A's attempts left no trace.
    expect((await feedbackOverHttp(sentB[1]!.callId, true, keyB)).status).toBe(202);
    const ofB = await loadJudgedInteractions(t.nats, { tenant: tenantB, sinceMs: startedAt, untilMs: Date.now() });
    expect(ofB.interactions.map((i) => [i.callId, i.inserted]).sort()).toEqual(
      sentB.map((r) => [r.callId, r.callId === sentB[1]!.callId ? true : undefined]).sort(),
    );
  });

  it('reports insert rates per feature and prompt variant over the period, for the key tenant only', async () => {
    const since = new Date(startedAt).toISOString();
    const response = await report(`/v1/reports/insert-rate?by=feature,promptVariant,user&since=${encodeURIComponent(since)}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { tenant: string; totals: Record<string, number>; by: Record<string, Array<Record<string, unknown>>> };
    expect(body.tenant).toBe(tenantA);
    expect(body.totals).toMatchObject({ calls: 60, judged: 56, inserted: 36 });
    expect(body.by.feature).toEqual([
      { key: 'button', calls: 16, judged: 16, inserted: 8, insertRate: 0.5 },
      { key: 'headline', calls: 4, judged: 0, inserted: 0 },
      { key: 'image', calls: 40, judged: 40, inserted: 28, insertRate: 0.7 },
    ]);
    expect(body.by.promptVariant).toEqual([expect.objectContaining({ calls: 60, judged: 56, inserted: 36 })]);
    expect(body.by.user!.map((r) => r.key)).not.toContain('u-b');

    const ofB = (await (await report(`/v1/reports/insert-rate?by=feature,user&since=${encodeURIComponent(since)}`, keyB)).json()) as typeof body;
    expect(ofB.tenant).toBe(tenantB);
    expect(ofB.totals).toMatchObject({ calls: 4, judged: 1, inserted: 1 });
    expect(ofB.by.user).toEqual([expect.objectContaining({ key: 'u-b', calls: 4 })]);
  });

  it('reports cost per user and language from the price table, with tokens per character', async () => {
    const body = (await (await report(`/v1/reports/cost?by=user,language&days=1`)).json()) as {
      totals: { costUsd: number };
      by: Record<string, Array<{ key: string; calls: number; costUsd: number; inputTokens: number; tokensPerChar: number }>>;
    };
    for (const user of ['u-0', 'u-1', 'u-2', 'u-btn', 'u-ja']) {
      const mine = sentA.filter((s) => s.user === user).map((s) => s.result);
      const row = body.by.user!.find((r) => r.key === user)!;
      expect(row.calls).toBe(mine.length);
      expect(row.costUsd).toBeCloseTo(costOf(mine), 12);
    }
    expect(body.totals.costUsd).toBeCloseTo(costOf(sentA.map((s) => s.result)), 12);
    // The vendor's view: it counted the same input tokens, and that many per character of the prompt it received.
    const seen = t.vendor.requests({ contains: [marker] });
    expect(seen).toHaveLength(60);
    expect(seen.reduce((sum, r) => sum + r.promptTokens, 0)).toBe(sentA.reduce((sum, s) => sum + s.result.usage.inputTokens, 0));
    const seenJa = t.vendor.requests({ contains: [marker, 'パン屋'] });
    const ja = body.by.language!.find((r) => r.key === 'ja')!;
    expect(ja.calls).toBe(4);
    expect(ja.inputTokens).toBe(seenJa.reduce((sum, r) => sum + r.promptTokens, 0));
    expect(ja.tokensPerChar).toBeCloseTo(ja.inputTokens / seenJa.reduce((sum, r) => sum + r.promptChars, 0), 9);
    expect(body.by.language!.find((r) => r.key === 'en')!.calls).toBe(56);
  });

  it('answers 400 naming the bad parameter, and 401 without a key', async () => {
    for (const [query, param] of [
      ['by=colour', 'by'],
      ['since=yesterday', 'since'],
      ['days=0', 'days'],
      ['days=2&since=2026-01-01', 'days'],
      ['tenant=other', 'tenant'],
    ] as const) {
      const response = await report(`/v1/reports/insert-rate?${query}`);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: { param } });
    }
    expect((await fetch(`${t.url}/v1/reports/cost`)).status).toBe(401);
  });

  it('prints the same report from the CLI (--json)', async () => {
    const configPath = writeConfigFile(switchboardConfig(t.vendor.url));
    const out = await runCli(
      ['report', '--tenant', tenantA, '--since', new Date(startedAt).toISOString(), '--by', 'feature', '--cost-by', 'user', '--json'],
      configPath,
      t.taskQueue,
    );
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const parsed = JSON.parse(out.stdout) as { insertRate: { by: { feature: unknown[] } }; cost: { by: { user: Array<{ key: string; costUsd: number }> } } };
    expect(parsed.insertRate.by.feature).toEqual(expect.arrayContaining([{ key: 'image', calls: 40, judged: 40, inserted: 28, insertRate: 0.7 }]));
    expect(parsed.cost.by.user.find((r) => r.key === 'u-btn')!.costUsd).toBeCloseTo(costOf(sentA.filter((s) => s.user === 'u-btn').map((s) => s.result)), 12);
    const bad = await runCli(['report', '--days', 'many'], configPath, t.taskQueue);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--days');
  });

  it('the insights job (run from the CLI) finds both clusters, names the term, and publishes, writes and posts its report', async () => {
    const published = t.nats.subscribe(INSIGHTS_SUBJECT);
    await t.nats.flush();
    const configPath = writeConfigFile(switchboardConfig(job.vendor.url, { insights: { reportDir, naming: { enabled: true, route: 'solo-only' } } }));
    const out = await runCli(['insights', 'run', '--tenant', tenantA, '--days', '1', '--json'], configPath, job.taskQueue);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const result = JSON.parse(out.stdout) as { markdown: string; clusters: number; judged: number; file: string; webhookPosted: boolean; tenant: string };
    expect(result).toMatchObject({ clusters: 2, judged: 56, tenant: tenantA, webhookPosted: true });
    const { markdown } = result;
    expect(markdown).toContain('inputs mentioning "background" + "transparent"');
    expect(markdown).toContain('feature=button with output=long');
    expect(markdown).toMatch(/9 rejected of 10; insert rate 10\.0% against 64\.3%/);
    expect(markdown).toMatch(/7 rejected of 8; insert rate 12\.5% against 64\.3%/);
    expect(markdown).toContain('transparent background');
    // An LLM, through Switchboard itself, named both clusters (the job's vendor saw the two naming calls).
    expect(markdown.match(/likely cause \(suggested by an LLM\)/g)).toHaveLength(2);
    expect(job.vendor.requests({ contains: ['Name the group and suggest the most likely cause'] })).toHaveLength(2);

    expect(readFileSync(result.file, 'utf8').trimEnd()).toBe(markdown.trimEnd());
    expect(result.file.startsWith(reportDir)).toBe(true);
    expect(webhook.bodies).toEqual([expect.objectContaining({ text: markdown })]);
    // Other runs (the schedule test's) may publish too: wait for this tenant's report.
    const codec = JSONCodec<{ tenant: string | null; report: { clusters: Array<{ terms: string[] }> }; markdown: string }>();
    for await (const message of published) {
      const body = codec.decode(message.data);
      if (body.tenant !== tenantA) continue;
      expect(body.markdown).toBe(markdown);
      expect(body.report.clusters.some((c) => c.terms.includes('transparent'))).toBe(true);
      break;
    }
    published.unsubscribe();
  }, 120_000);
});
