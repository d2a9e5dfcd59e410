/**
 * `POST /v1/chains` and `GET /v1/chains/:id` on the real stack: start a chain
 * over HTTP, read its result, and keep other tenants out.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { eventually } from '../harness/switchboard';
import { startGateway, tenantKeys, type GatewayUnderTest } from '../harness/gateway';

const Started = z.object({ id: z.string(), status: z.literal('running') });
const View = z.object({ chainId: z.string(), status: z.string(), result: z.unknown().optional(), error: z.unknown().optional() });

describe('gateway: chains', () => {
  let t: GatewayUnderTest;
  beforeAll(async () => {
    t = await startGateway({
      configOverrides: {
        chains: {
          greeting: {
            route: 'solo-only',
            input: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
            steps: [
              { id: 'hello', prompt: 'Say hello to {{input.name}}' },
              { id: 'farewell', prompt: 'After "{{steps.hello}}", say goodbye to {{input.name}}' },
            ],
          },
        },
      },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  const post = (body: unknown, key: string = tenantKeys.acme, headers: Record<string, string> = {}) =>
    fetch(`${t.url}/v1/chains`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const get = (id: string, key: string = tenantKeys.acme) =>
    fetch(`${t.url}/v1/chains/${encodeURIComponent(id)}`, { headers: { authorization: `Bearer ${key}` } });

  it('starts a chain, reports it running or done, and returns the result', async () => {
    const name = `Ada-${randomUUID().slice(0, 6)}`;
    const response = await post({ chain: 'greeting', input: { name } });
    expect(response.status).toBe(202);
    const started = Started.parse(await response.json());
    expect(response.headers.get('location')).toBe(`/v1/chains/${encodeURIComponent(started.id)}`);

    const done = await eventually(
      'the chain to complete',
      async () => {
        const view = View.parse(await (await get(started.id)).json());
        expect(['running', 'completed']).toContain(view.status);
        return view.status === 'completed' ? view : undefined;
      },
      30_000,
    );
    expect(JSON.stringify(done.result)).toContain('farewell');
    // Both steps reached the vendor once each, the second with the first's answer in its prompt.
    expect(t.vendor.requests({ contains: [name] })).toHaveLength(2);
  });

  it("answers 404 for another tenant's chain and 400 naming the field for bad input", async () => {
    const started = Started.parse(await (await post({ chain: 'greeting', input: { name: 'Grace' } })).json());
    expect((await get(started.id, tenantKeys.globex)).status).toBe(404);
    expect((await get('chain-does-not-exist')).status).toBe(404);

    const badInput = await post({ chain: 'greeting', input: { nom: 'x' } });
    expect(badInput.status).toBe(400);
    expect(JSON.stringify(await badInput.json())).toContain('name');
    const unknown = await post({ chain: 'nope', input: {} });
    expect(unknown.status).toBe(400);
    expect((await post({ chain: 'greeting', input: { name: 'x' } }, 'sk-wrong')).status).toBe(401);
  });

  it('finds the same run for the same Idempotency-Key', async () => {
    const key = `chain-key-${randomUUID().slice(0, 8)}`;
    const first = Started.parse(await (await post({ chain: 'greeting', input: { name: 'Linus' } }, tenantKeys.acme, { 'idempotency-key': key })).json());
    const second = Started.parse(await (await post({ chain: 'greeting', input: { name: 'Linus' } }, tenantKeys.acme, { 'idempotency-key': key })).json());
    expect(second.id).toBe(first.id);
  });
});
