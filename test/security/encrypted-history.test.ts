/**
 * Prompts encrypted at rest in Temporal, on the real stack: a call through a
 * gateway process with an e-mail address and a card number in its prompt
 * leaves neither in Temporal's history as `temporal workflow show` prints it
 * (nor in its CallEvents and interaction record on JetStream), while the
 * caller gets its answer restored and an operator with the codec server's
 * token reads the history in clear. Search attributes stay readable.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { hashApiKey } from '../../services/gateway/tenants';
import { testStack } from '../harness/env';
import { gatewaySection } from '../harness/gateway';
import { spawnGateway, type GatewayProcess } from '../harness/gateway-process';
import { eventually, readCallEvents, startSwitchboard, switchboardConfig, type SwitchboardUnderTest } from '../harness/switchboard';
import { writeConfigFile } from '../harness/worker-process';

const run = promisify(execFile);

/** Everything `temporal workflow show --output json` printed, with every payload's metadata and data decoded from base64. */
function readable(output: string): string {
  const texts: string[] = [output];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node && typeof node === 'object') {
      const record = node as Record<string, unknown>;
      if (record.metadata && typeof record.metadata === 'object') {
        for (const value of Object.values(record.metadata)) if (typeof value === 'string') texts.push(Buffer.from(value, 'base64').toString('utf8'));
        if (typeof record.data === 'string') texts.push(Buffer.from(record.data, 'base64').toString('utf8'));
      }
      Object.values(record).forEach(visit);
    }
  };
  visit(JSON.parse(output));
  return texts.join('\n');
}
const TENANT = `sec-enc-${randomUUID().slice(0, 6)}`;
const API_KEY = `sk-sb-test-${TENANT}`;
const TOKEN = randomBytes(24).toString('base64url');
const UI_ORIGIN = 'http://127.0.0.1:18233';

describe('payloads encrypted in Temporal', () => {
  let t: SwitchboardUnderTest;
  let gateway: GatewayProcess;
  const temporalBin = process.env.SB_TEMPORAL_BIN ?? `${process.env.HOME}/.cache/switchboard/bin/temporal`;
  const show = async (workflowId: string, codec: string[] = []) =>
    readable(
      (
        await run(temporalBin, ['workflow', 'show', '-w', workflowId, '--address', testStack().temporalAddress, '--output', 'json', ...codec], {
          maxBuffer: 32 * 1024 * 1024,
        })
      ).stdout,
    );

  beforeAll(async () => {
    const gatewayConfig = gatewaySection({ tenants: [{ id: TENANT, keys: [{ name: 'k', sha256: hashApiKey(API_KEY) }] }] });
    t = await startSwitchboard({ configOverrides: { gateway: gatewayConfig } });
    gateway = await spawnGateway({
      configPath: writeConfigFile(switchboardConfig(t.vendor.url, { gateway: gatewayConfig })),
      taskQueue: t.taskQueue,
      env: { SB_CODEC_TOKEN: TOKEN, SB_CODEC_CORS_ORIGINS: UI_ORIGIN },
    });
  }, 90_000);
  afterAll(async () => {
    await gateway?.stop();
    await t?.close();
  });

  it('keeps the e-mail and card out of the history, CallEvents and interaction record; the codec server shows them to the operator', async () => {
    const email = `jane.${randomUUID().slice(0, 6)}@example.com`;
    const card = '4111 1111 1111 1111';
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'chat-default', messages: [{ role: 'user', content: `Mail ${email} the receipt for card ${card} [[echo]]` }] }),
    });
    expect(response.status).toBe(200);
    const answer = ((await response.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content;
    // The vendor saw placeholders; the caller gets the values back.
    expect(answer).toContain(email);
    expect(answer).toContain(card);
    const callId = response.headers.get('x-switchboard-call-id')!;

    const encrypted = await show(callId);
    expect(encrypted).toContain('binary/encrypted');
    for (const raw of [email, card, card.replaceAll(' ', '')]) expect(encrypted).not.toContain(raw);
    // Search attributes are not payloads the codec touches: the tenant stays filterable.
    expect(encrypted).toContain(JSON.stringify(TENANT));

    const decoded = await show(callId, ['--codec-endpoint', `${gateway.url}/codec`, '--codec-auth', `Bearer ${TOKEN}`]);
    expect(decoded).not.toContain('binary/encrypted');
    expect(decoded).toContain(email);

    const events = await readCallEvents(t.nats, (event) => event.callId === callId);
    expect(events.length).toBeGreaterThan(0);
    expect(JSON.stringify(events)).not.toContain(email);
    const record = await eventually('the interaction record', async () => {
      const jsm = await t.nats.jetstreamManager();
      const message = await jsm.streams.getMessage('SB_INTERACTIONS', { last_by_subj: `sb.interaction.${TENANT}` }).catch(() => undefined);
      return message && message.string().includes(callId) ? message.string() : undefined;
    });
    expect(record).not.toContain(email);
    expect(record).not.toContain(card);
  });

  it('answers the codec protocol only to the operator token, by header or in the UI’s path', async () => {
    const body = JSON.stringify({
      payloads: [{ metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from('"hello"').toString('base64') }],
    });
    const post = (path: string, headers: Record<string, string> = {}) =>
      fetch(`${gateway.url}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
    expect((await post('/codec/encode')).status).toBe(401);
    expect((await post('/codec/encode', { authorization: 'Bearer not-the-token' })).status).toBe(401);
    expect((await post(`/codec/${'x'.repeat(32)}/encode`)).status).toBe(401);
    const encoded = await post('/codec/encode', { authorization: `Bearer ${TOKEN}` });
    expect(encoded.status).toBe(200);
    const sealed = (await encoded.json()) as { payloads: Array<{ metadata: Record<string, string>; data: string }> };
    expect(Buffer.from(sealed.payloads[0]!.metadata.encoding!, 'base64').toString()).toBe('binary/encrypted');
    const decoded = await fetch(`${gateway.url}/codec/${TOKEN}/decode`, {
      method: 'POST',
      body: JSON.stringify(sealed),
      headers: { 'content-type': 'application/json', origin: UI_ORIGIN },
    });
    expect(decoded.status).toBe(200);
    expect(decoded.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    const opened = (await decoded.json()) as { payloads: Array<{ data: string }> };
    expect(Buffer.from(opened.payloads[0]!.data, 'base64').toString()).toBe('"hello"');
  });

  it('lets the Temporal UI’s origin (and no other) through the CORS preflight', async () => {
    const preflight = (origin: string) =>
      fetch(`${gateway.url}/codec/decode`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' },
      });
    const allowed = await preflight(UI_ORIGIN);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    expect(allowed.headers.get('access-control-allow-headers')).toContain('x-namespace');
    const other = await preflight('http://evil.example');
    expect(other.status).toBe(403);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});
