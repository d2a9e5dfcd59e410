/**
 * The rules of docs/security.md's audit that code enforces, each checked:
 * every tenant endpoint needs a key (and reveals nothing without one),
 * health and metrics answer without one and carry no tenant label, no codec
 * server without its token, URLs carrying credentials are logged without
 * them, and the Kubernetes config never points at the fake vendor.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { parseConfig } from '../../lib/config/load';
import { describeNatsUrl } from '../../lib/nats/connect';
import { withoutCodecToken } from '../../services/gateway/codec-server';
import { startGateway, tenantKeys, type GatewayUnderTest } from '../harness/gateway';

/** Every tenant endpoint of the gateway, as docs/security.md lists them. */
const tenantEndpoints: Array<[method: string, path: string]> = [
  ['POST', '/v1/chat/completions'],
  ['POST', '/v1/messages'],
  ['POST', '/v1/chains'],
  ['GET', '/v1/chains/chain-4:acme:1:x'],
  ['GET', '/v1/chains/%'],
  ['POST', '/v1/feedback'],
  ['GET', '/v1/reports/insert-rate'],
  ['GET', '/v1/reports/cost'],
  ['GET', '/v1/models'],
  ['GET', '/v1/models/chat-default'],
];

describe('audit: the gateway’s doors', () => {
  let t: GatewayUnderTest;
  beforeAll(async () => {
    t = await startGateway();
  });
  afterAll(async () => {
    await t?.close();
  });

  it.each(tenantEndpoints)('%s %s answers 401 without a key and with a wrong one, and starts nothing', async (method, path) => {
    const body =
      method === 'POST'
        ? JSON.stringify({ model: 'chat-default', messages: [{ role: 'user', content: 'audit-probe' }], chain: 'site-planner', callId: 'x', inserted: true })
        : undefined;
    for (const headers of [{}, { authorization: 'Bearer sk-not-a-key' }, { 'x-api-key': 'sk-not-a-key' }]) {
      const response = await fetch(`${t.url}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, ...(body ? { body } : {}) });
      expect(response.status).toBe(401);
      const text = await response.text();
      expect(text).not.toContain('sk-not-a-key');
    }
    expect(t.vendor.requests({ contains: ['audit-probe'] })).toHaveLength(0);
  });

  it('answers /healthz and /metrics without a key; metrics carry no tenant, user or key', async () => {
    // A tenant's request first, so the counters hold something.
    await t.openai().chat.completions.create({ model: 'chat-default', messages: [{ role: 'user', content: 'Hi [[say:ok]]' }], user: 'audit-user' });
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    const metrics = await fetch(`${t.url}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toContain('sb_gateway');
    expect(text).not.toMatch(/tenant="|user="|api_key="/);
    expect(text).not.toContain('audit-user');
    expect(text).not.toContain(tenantKeys.acme);
  });

  it('serves no codec server without SB_CODEC_TOKEN', async () => {
    for (const path of ['/codec/decode', '/codec/encode', `/codec/${'t'.repeat(32)}/decode`]) {
      const response = await fetch(`${t.url}${path}`, { method: 'POST', body: '{"payloads":[]}', headers: { 'content-type': 'application/json' } });
      expect(response.status).toBe(404);
    }
  });
});

describe('audit: credentials stay out of logs', () => {
  it.each([
    ['nats://switchboard:s3cret@nats-1:4222,nats://switchboard:s3cret@nats-2:4222', 'nats://nats-1:4222,nats://nats-2:4222'],
    ['tls://user:p%40ss@nats:4222', 'tls://nats:4222'],
    ['nats://127.0.0.1:4222', 'nats://127.0.0.1:4222'],
  ])('logs NATS_URL %s as %s', (url, logged) => {
    expect(describeNatsUrl(url)).toBe(logged);
  });

  it('logs a codec URL without the token in its path', () => {
    expect(withoutCodecToken('/codec/QnymbCw0Xl20qHM0vWnb2Wx9_xFWFLgc/decode')).toBe('/codec/…/decode');
    expect(withoutCodecToken('/v1/chat/completions')).toBe('/v1/chat/completions');
  });
});

describe('audit: the production manifests', () => {
  const root = resolve(__dirname, '../..');
  const configMap = parseAllDocuments(readFileSync(resolve(root, 'deploy/k8s/configmap.yaml'), 'utf8'))[0]!.toJS() as { data: Record<string, string> };
  const config = parseConfig(parseYaml(configMap.data['switchboard.yaml']!), 'deploy/k8s/configmap.yaml');

  it('never point an upstream at the fake vendor or a loopback address', () => {
    const baseUrls = Object.values(config.providers).flatMap((p) => p.upstreams.map((u) => u.baseUrl ?? ''));
    expect(baseUrls.length).toBeGreaterThan(0);
    for (const url of baseUrls) expect(url).not.toMatch(/fake-vendor|:8089|127\.0\.0\.1|localhost/);
  });
});
