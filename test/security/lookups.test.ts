/**
 * Lookups that only find what exists: config objects have no prototype, so
 * `__proto__` / `constructor` as a model, route or feature finds nothing;
 * path parameters are decoded only after authentication, a malformed one is
 * a 400. Pure checks first, then the gateway and the typed client on the
 * real stack (nothing reaches the vendor).
 */
import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import { parseConfig } from '../../lib/config/load';
import { ownEntry, withoutPrototypes } from '../../lib/config/null-prototype';
import { isSwitchboardCallError } from '../../lib/client';
import { startGateway, tenantKeys, type GatewayUnderTest } from '../harness/gateway';
import { switchboardConfig } from '../harness/switchboard';

const inherited = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];

describe('config lookups', () => {
  const config = parseConfig(switchboardConfig('http://127.0.0.1:1'), 'test config');

  it.each(inherited)('find nothing for %s in routes, providers, prompts, features, chains, prices', (key) => {
    for (const record of [config.routes, config.providers, config.prompts, config.features, config.chains, config.prices, config.gateway.streams]) {
      expect((record as Record<string, unknown>)[key]).toBeUndefined();
      expect(ownEntry(record as Record<string, unknown>, key)).toBeUndefined();
    }
  });

  it('still find what the config defines', () => {
    expect(ownEntry(config.routes, 'chat-default')?.entries.length).toBeGreaterThan(0);
    expect(config.providers.openai?.protocol).toBe('openai');
  });

  it('copy deeply without prototypes, keeping arrays and an own __proto__ key as data', () => {
    const source = JSON.parse('{"a":{"b":[{"c":1}]},"__proto__":{"polluted":true}}') as Record<string, unknown>;
    const copy = withoutPrototypes(source);
    expect(Object.getPrototypeOf(copy)).toBeNull();
    expect(Object.getPrototypeOf((copy.a as Record<string, unknown>).b)).toBe(Array.prototype);
    expect(Object.getPrototypeOf((copy.a as { b: object[] }).b[0])).toBeNull();
    expect(Object.hasOwn(copy, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('client input on the real stack', () => {
  let t: GatewayUnderTest;
  beforeAll(async () => {
    t = await startGateway();
  });
  afterAll(async () => {
    await t?.close();
  });

  it.each(inherited)('answers 404 model_not_found for model %s, and no vendor sees the prompt', async (model) => {
    const m = `proto-m${randomUUID().slice(0, 8)}`;
    const error = await t
      .openai()
      .chat.completions.create({ model, messages: [{ role: 'user', content: `Hi ${m}` }] })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(404);
    expect((error as InstanceType<typeof OpenAI.APIError>).error).toEqual(expect.objectContaining({ code: 'model_not_found', param: 'model' }));
    expect(t.vendor.requests({ contains: [m] })).toHaveLength(0);
  });

  it('answers 404 for GET /v1/models/__proto__ and /v1/models/constructor', async () => {
    for (const id of ['__proto__', 'constructor']) {
      const response = await fetch(`${t.url}/v1/models/${id}`, { headers: { authorization: `Bearer ${tenantKeys.acme}` } });
      expect(response.status).toBe(404);
    }
  });

  it('authenticates before decoding a path parameter: 401 without a key, then 400 for a malformed one, 404 for an unknown one', async () => {
    for (const path of ['/v1/chains/%', '/v1/chains/%E0%A4%A', '/v1/models/%']) {
      expect((await fetch(`${t.url}${path}`)).status).toBe(401);
      const authed = await fetch(`${t.url}${path}`, { headers: { authorization: `Bearer ${tenantKeys.acme}` } });
      expect(authed.status).toBe(400);
      expect(((await authed.json()) as { error: { code: string } }).error.code).toBe('invalid_path_parameter');
    }
    const unknown = await fetch(`${t.url}/v1/chains/${encodeURIComponent('chain-no/such %')}`, { headers: { authorization: `Bearer ${tenantKeys.acme}` } });
    expect(unknown.status).toBe(404);
  });

  it('fails a typed-client call on route __proto__ as an invalid request, before any vendor', async () => {
    const m = `proto-m${randomUUID().slice(0, 8)}`;
    const error = await t.sb.complete({ route: '__proto__', messages: [{ role: 'user', content: `Hi ${m}` }] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isSwitchboardCallError(error) && error.type).toBe('SbInvalidRequest');
    expect(t.vendor.requests({ contains: [m] })).toHaveLength(0);
  });

  it('answers a call whose feature is __proto__ like any other (no inherited validation found)', async () => {
    const answer = await t.sb.complete({ route: 'chat-default', feature: '__proto__', messages: [{ role: 'user', content: 'Hi [[say:plain]]' }] });
    expect(answer.text).toBe('plain');
  });
});
