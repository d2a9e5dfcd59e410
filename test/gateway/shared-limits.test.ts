/**
 * Two gateway processes, one user: the limit lives in NATS KV and every
 * admission is a compare-and-set, so together they admit no more than the
 * limit, and the vendor sees exactly the admitted calls.
 */
import { randomUUID } from 'node:crypto';
import { startSwitchboard, switchboardConfig, type SwitchboardUnderTest } from '../harness/switchboard';
import { gatewaySection, tenantKeys } from '../harness/gateway';
import { spawnGateway, type GatewayProcess } from '../harness/gateway-process';
import { writeConfigFile } from '../harness/worker-process';

const LIMIT = 4;

describe('gateway: admission shared by two gateway processes', () => {
  let t: SwitchboardUnderTest;
  const gateways: GatewayProcess[] = [];

  beforeAll(async () => {
    const gateway = gatewaySection({ admission: { segments: { untrusted: { requestsPerMinute: LIMIT }, trusted: {}, premium: {} } } });
    t = await startSwitchboard({ configOverrides: { gateway } });
    const configPath = writeConfigFile(switchboardConfig(t.vendor.url, { gateway }));
    gateways.push(...(await Promise.all([0, 1].map(() => spawnGateway({ configPath, taskQueue: t.taskQueue })))));
  }, 90_000);
  afterAll(async () => {
    await Promise.allSettled(gateways.map((g) => g.stop()));
    await t?.close();
  });

  it('admits at most the limit in total, answers the rest 429 with retry-after, and calls the vendor only for the admitted', async () => {
    const m = `shared-${randomUUID().slice(0, 8)}`;
    const user = `u-${randomUUID().slice(0, 8)}`;
    const attempts = Array.from({ length: 12 }, (_, i) =>
      fetch(`${gateways[i % 2]!.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tenantKeys.acme}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'chat-default', user, messages: [{ role: 'user', content: `${m} request ${i}` }] }),
      }).then(async (r) => ({ status: r.status, retryAfter: r.headers.get('retry-after'), gateway: i % 2, body: (await r.json()) as Record<string, unknown> })),
    );
    const responses = await Promise.all(attempts);
    const admitted = responses.filter((r) => r.status === 200);
    const refused = responses.filter((r) => r.status === 429);
    expect(admitted.length + refused.length).toBe(12);
    expect(admitted.length).toBe(LIMIT);
    expect(refused.every((r) => Number(r.retryAfter) >= 1)).toBe(true);
    // Both processes took part in admitting and refusing.
    expect(new Set(responses.map((r) => r.gateway))).toEqual(new Set([0, 1]));
    expect(t.vendor.requests({ contains: [m] })).toHaveLength(admitted.length);
  });
});
