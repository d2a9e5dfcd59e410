import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import pino from 'pino';
import { isFakeVendorConfigError, startFakeVendor, type FakeVendor } from '../../services/fake-vendor';
import { KEYS, openAiClient, testConfig, waitFor } from './fixtures';

let vendor: FakeVendor;
beforeAll(async () => {
  vendor = await startFakeVendor({ config: testConfig(), port: 0 });
});
afterAll(() => vendor.close());
beforeEach(() => {
  vendor.clearFaults();
  vendor.resetLog();
});

async function admin(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${vendor.url}/_admin${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

const rule = { organisation: 'openai/org-a', fault: { kind: 'status', status: 503 } };

describe('admin API', () => {
  it('reports health', async () => {
    const { status, json } = await admin('GET', '/health');
    expect(status).toBe(200);
    expect(json).toMatchObject({ status: 'ok', organisations: expect.arrayContaining(['openai/org-a', 'anthropic/org-a']) });
  });

  it('sets, lists, removes and clears fault rules', async () => {
    const created = await admin('POST', '/faults', rule);
    expect(created.status).toBe(201);
    const [id] = created.json.ids as string[];
    const both = await admin('POST', '/faults', [
      { ...rule, organisation: 'openai/org-b', model: 'gpt-4o-mini' },
      { organisation: 'anthropic/org-a', times: 2, probability: 0.5, fault: { kind: 'latency', distribution: 'normal', meanMs: 100, stdDevMs: 10 } },
    ]);
    expect(both.json.ids).toHaveLength(2);
    const listed = await admin('GET', '/faults');
    expect(listed.json.rules).toHaveLength(3);
    expect((listed.json.rules as { id: string; fault: { body?: string } }[])[0]).toMatchObject({
      id,
      firedCount: 0,
      probability: 1,
      fault: { kind: 'status', status: 503, body: 'vendor' },
    });
    expect((await admin('DELETE', `/faults/${id}`)).json).toEqual({ removed: true });
    expect((await admin('DELETE', '/faults?organisation=openai/org-b')).json).toEqual({ cleared: 1 });
    expect((await admin('DELETE', '/faults')).json).toEqual({ cleared: 1 });
  });

  it.each([
    ['an unknown fault kind', { organisation: 'openai/org-a', fault: { kind: 'explode' } }, 'fault.kind'],
    ['a probability above 1', { ...rule, probability: 2 }, 'probability'],
    ['an unknown field', { ...rule, organization: 'x' }, 'organization'],
    ['a latency without ms', { organisation: 'openai/org-a', fault: { kind: 'latency' } }, 'latency needs'],
    ['a negative afterChunks', { organisation: 'openai/org-a', fault: { kind: 'stream_cut', afterChunks: -1 } }, 'fault.afterChunks'],
    ['an unknown organisation', { ...rule, organisation: 'openai/nope' }, "unknown organisation 'openai/nope'"],
    ['an unknown model', { ...rule, model: 'gpt-9' }, "no model 'gpt-9'"],
    ['a bad rule in a list', [rule, { ...rule, organisation: 'x' }], '1.organisation'],
  ])('rejects %s with a 400 naming it', async (_what, body, naming) => {
    const { status, json } = await admin('POST', '/faults', body);
    expect(status).toBe(400);
    expect(json.error).toContain(naming);
    expect((await admin('GET', '/faults')).json.rules).toEqual([]);
  });

  it('rejects bodies that are not JSON, or missing', async () => {
    expect(await admin('POST', '/faults', '{oops')).toEqual({ status: 400, json: { error: 'body is not valid JSON' } });
    expect(await admin('POST', '/faults')).toEqual({ status: 400, json: { error: 'a JSON body is required' } });
  });

  it('runs and cancels scenarios, rejecting bad steps', async () => {
    const bad = await admin('POST', '/scenario', { steps: [{ at: 0, organisation: 'openai/org-a', clear: true, fault: { kind: 'hang' } }] });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toContain('exactly one of `fault` or `clear: true`');
    const unknown = await admin('POST', '/scenario', [{ at: 0, organisation: 'nope', clear: true }]);
    expect(unknown.json.error).toContain('steps.0.organisation');
    const ok = await admin('POST', '/scenario', {
      steps: [
        { at: 0, ...rule },
        { at: 60_000, organisation: 'openai/org-a', clear: true },
      ],
    });
    expect(ok).toEqual({ status: 202, json: { scheduled: 2 } });
    expect(vendor.faults()).toHaveLength(1);
    expect((await admin('DELETE', '/scenario')).json).toEqual({ cancelled: 1 });
  });

  it('answers the request log, filtered, counted, with prompts on demand', async () => {
    const client = openAiClient(vendor, KEYS.orgA);
    await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'a TRANSPARENT logo' }] });
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'a red logo' }] });
    await openAiClient(vendor, KEYS.orgB).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'transparent again' }] });
    const all = await admin('GET', '/requests');
    expect(all.json.count).toBe(3);
    const transparent = await admin('GET', '/requests?contains=transparent');
    expect(transparent.json.count).toBe(2);
    const both = await admin('GET', '/requests?contains=transparent&contains=logo&organisation=openai/org-a&includePrompt=true');
    expect(both.json.records).toEqual([expect.objectContaining({ model: 'gpt-4o', promptText: 'user: a TRANSPARENT logo' })]);
    const latest = await admin('GET', '/requests?limit=1');
    expect(latest.json).toMatchObject({ count: 3, records: [expect.objectContaining({ organisation: 'openai/org-b' })] });
    expect((latest.json.records as object[])[0]).not.toHaveProperty('promptText');
    expect((await admin('GET', `/requests?since=${Date.now() + 60_000}`)).json.count).toBe(0);
    expect((await admin('GET', '/requests?model=gpt-4o-mini')).json.count).toBe(2);
    expect((await admin('DELETE', '/requests')).json).toEqual({ reset: true });
    expect((await admin('GET', '/requests')).json.count).toBe(0);
  });

  it('rejects bad log queries and unknown endpoints', async () => {
    const unknownParam = await admin('GET', '/requests?organization=x');
    expect(unknownParam.status).toBe(400);
    expect(unknownParam.json.error).toContain('organization');
    expect((await admin('GET', '/requests?limit=-1')).json.error).toContain('limit');
    expect((await admin('GET', '/requests?includePrompt=yes')).status).toBe(400);
    expect((await admin('GET', '/nothing')).status).toBe(404);
    expect((await admin('PUT', '/faults', rule)).status).toBe(404);
  });

  it('validates rules set in process too', () => {
    expect(() => vendor.setFault({ organisation: 'openai/org-a', fault: { kind: 'status', status: 200 } })).toThrow(/fault.status/);
    expect(() => vendor.setFault({ organisation: 'nope', fault: { kind: 'hang' } })).toThrow(/unknown organisation 'nope'/);
  });
});

describe('configuration', () => {
  it.each([
    [{ organisations: [] }, 'organisations'],
    [{ organisations: [{ id: 'x', protocol: 'grpc', keys: [{ name: 'k', key: 'sk-12345678' }] }] }, 'organisations.0.protocol'],
    [testConfig({ seed: 1.5 }), 'seed'],
    [
      {
        organisations: [
          { id: 'x', protocol: 'openai', keys: [{ name: 'k', key: 'sk-12345678' }] },
          { id: 'y', protocol: 'openai', keys: [{ name: 'j', key: 'sk-12345678' }] },
        ],
      },
      "key 'j' is used twice",
    ],
    [testConfig({ defaults: { minAnswerTokens: 10, maxAnswerTokens: 5 } }), 'defaults.minAnswerTokens'],
    [testConfig({ scenario: [{ at: 0, organisation: 'ghost', clear: true }] }), 'scenario.0.organisation'],
  ])('refuses a bad config, naming the field (%#)', async (config, naming) => {
    const error = await startFakeVendor({ config }).then(
      async (v) => {
        await v.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(isFakeVendorConfigError(error)).toBe(true);
    expect((error as Error).message).toContain(naming);
  });
});

describe('logs', () => {
  it('never contain API keys, good or bad', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logged = await startFakeVendor({ config: testConfig(), logger: pino({ level: 'trace' }, sink) });
    try {
      logged.runScenario([{ at: 0, organisation: 'openai/org-a', times: 1, fault: { kind: 'status', status: 500 } }]);
      await openAiClient(logged, KEYS.orgA)
        .chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
        .catch(() => undefined);
      await openAiClient(logged, 'sk-wrong-secret-key')
        .chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
        .catch(() => undefined);
    } finally {
      await logged.close();
    }
    expect(lines.length).toBeGreaterThan(0);
    const text = lines.join('');
    expect(text).not.toContain(KEYS.orgA);
    expect(text).not.toContain('sk-wrong-secret-key');
  });
});

describe('command line', () => {
  it('serves the example config until SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'services/fake-vendor/main.ts', '--config', 'config/fake-vendor.example.yaml', '--port', '0'], {
      cwd: `${__dirname}/../..`,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      // As long as it lives: under tsx on a loaded machine the start can take well over 20 s; an exit fails at once.
      await Promise.race([
        waitFor(() => output.includes('fake vendor listening'), 120_000),
        exited.then((code) => Promise.reject(new Error(`the fake vendor exited (${String(code)}) before listening:\n${output}`))),
      ]);
      const url = /"url":"([^"]+)"/.exec(output)?.[1];
      const health = (await (await fetch(`${url}/_admin/health`)).json()) as { organisations: string[] };
      expect(health.organisations).toEqual(['openai/org-a', 'openai/org-b', 'openai/org-c', 'anthropic/org-a']);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 150_000);

  it('exits 1 naming the bad field', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'services/fake-vendor/main.ts', '--config', 'package.json'], {
      cwd: `${__dirname}/../..`,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toContain('organisations');
  }, 150_000);
});
