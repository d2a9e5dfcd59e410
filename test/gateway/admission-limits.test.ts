/**
 * Limits nobody can skip, and slots that follow their owner: a request
 * without a user spends its key's anonymous budget (per client IP behind a
 * trusted proxy), fresh user ids still meet the key's and the tenant's
 * budgets, and the in-flight slot of a gateway killed mid-request frees
 * within seconds — with retry-after answers that tell the truth and retries
 * that are never counted as abuse.
 */
import { randomUUID } from 'node:crypto';
import { hashApiKey } from '../../services/gateway/tenants';
import { gatewaySection, startGateway, type GatewayUnderTest } from '../harness/gateway';
import { spawnGateway, type GatewayProcess } from '../harness/gateway-process';
import { eventually, startSwitchboard, switchboardConfig, type SwitchboardUnderTest } from '../harness/switchboard';
import { writeConfigFile } from '../harness/worker-process';

const keys = { web: 'sk-sb-test-limits-web', batch: 'sk-sb-test-limits-batch', other: 'sk-sb-test-limits-other' };

interface Answer {
  status: number;
  retryAfter: number;
  retryAfterMs: number;
  message: string;
}

async function chat(url: string, key: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'solo-only', ...body }),
  });
  const json = (await response.json()) as { error?: { message: string } };
  return {
    status: response.status,
    retryAfter: Number(response.headers.get('retry-after')),
    retryAfterMs: Number(response.headers.get('retry-after-ms')),
    message: json.error?.message ?? '',
  };
}

const ask = (text: string) => [{ role: 'user', content: text }];

describe('admission: limits nobody can skip', () => {
  let t: GatewayUnderTest;
  beforeAll(async () => {
    t = await startGateway({
      gateway: {
        tenants: [
          {
            id: 'acme',
            keys: [
              { name: 'web', sha256: hashApiKey(keys.web) },
              { name: 'batch', sha256: hashApiKey(keys.batch), limits: { requestsPerMinute: 4 } },
            ],
          },
          { id: 'small', keys: [{ name: 'other', sha256: hashApiKey(keys.other) }], limits: { requestsPerMinute: 2 } },
        ],
        admission: {
          anonymous: { requestsPerMinute: 3 },
          segments: { untrusted: {}, trusted: {}, premium: {} },
          trustProxy: { header: 'x-forwarded-for', hops: 1 },
        },
      },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('limits a caller without a user as the anonymous subject of its key, per client IP behind the trusted proxy', async () => {
    const m = `anon-${randomUUID().slice(0, 8)}`;
    const from = (ip: string) => ({ 'x-forwarded-for': `203.0.113.99, ${ip}` });
    const answers: Answer[] = [];
    for (let i = 0; i < 4; i++) answers.push(await chat(t.url, keys.web, { messages: ask(`${m} ${i}`) }, from('198.51.100.1')));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429]);
    expect(answers[3]!.message).toContain('anonymous caller of this API key from this IP');
    expect(answers[3]!.retryAfter).toBeGreaterThanOrEqual(1);
    // Another client IP behind the same proxy has a budget of its own.
    expect((await chat(t.url, keys.web, { messages: ask(`${m} other ip`) }, from('198.51.100.2'))).status).toBe(200);
    expect(t.vendor.requests({ contains: [m] })).toHaveLength(4);
  });

  it('holds a key to its budget however many fresh user ids it sends', async () => {
    const m = `fresh-users-${randomUUID().slice(0, 8)}`;
    const answers: Answer[] = [];
    for (let i = 0; i < 6; i++) answers.push(await chat(t.url, keys.batch, { user: `u-${randomUUID().slice(0, 8)}`, messages: ask(`${m} ${i}`) }));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 429, 429]);
    expect(answers[4]!.message).toContain('rate limit of this API key');
    expect(t.vendor.requests({ contains: [m] })).toHaveLength(4);
  });

  it('holds a tenant to its budget across users', async () => {
    const m = `tenant-${randomUUID().slice(0, 8)}`;
    const answers: Answer[] = [];
    for (let i = 0; i < 3; i++) answers.push(await chat(t.url, keys.other, { user: `u-${i}-${randomUUID().slice(0, 8)}`, messages: ask(`${m} ${i}`) }));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 429]);
    expect(answers[2]!.message).toContain('rate limit of this tenant');
  });
});

describe('admission: the slots of a killed gateway', () => {
  const LEASE_TTL_MS = 3_000;
  let t: SwitchboardUnderTest;
  const gateways: GatewayProcess[] = [];
  beforeAll(async () => {
    const gateway = gatewaySection({ admission: { leaseTtlMs: LEASE_TTL_MS, segments: { untrusted: { concurrent: 1 }, trusted: {}, premium: {} } } });
    t = await startSwitchboard({ configOverrides: { gateway } });
    const configPath = writeConfigFile(switchboardConfig(t.vendor.url, { gateway }));
    gateways.push(...(await Promise.all([0, 1].map(() => spawnGateway({ configPath, taskQueue: t.taskQueue })))));
  }, 90_000);
  afterAll(async () => {
    await Promise.allSettled(gateways.map((g) => g.stop()));
    await t?.close();
  });

  it("keeps a live request's slot past its TTL, and frees a killed gateway's within seconds", async () => {
    const [doomed, survivor] = gateways as [GatewayProcess, GatewayProcess];
    const user = `u-${randomUUID().slice(0, 8)}`;
    const m = `lease-${randomUUID().slice(0, 8)}`;
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: `${m} slow`, fault: { kind: 'hang' } });
    const held = chat(doomed.url, 'sk-sb-test-acme-1', { user, messages: ask(`${m} slow`) }).catch(() => undefined);
    await eventually('the slow request at the vendor', () => t.vendor.requests({ contains: [`${m} slow`] }).length > 0 || undefined, 30_000);

    // Renewed while it lives: still held after two TTLs, and every refusal says to come back within a second.
    const renewedUntil = Date.now() + 2 * LEASE_TTL_MS;
    while (Date.now() < renewedUntil) {
      const refused = await chat(survivor.url, 'sk-sb-test-acme-1', { user, messages: ask(`${m} while held`) });
      expect(refused.status).toBe(429);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(1_000);
      await new Promise((r) => setTimeout(r, refused.retryAfterMs));
    }

    doomed.child.kill('SIGKILL');
    const killedAt = Date.now();
    // A client honouring retry-after is admitted once the dead gateway's lease lapses, and was never tightened for retrying.
    let answer: Answer;
    for (;;) {
      answer = await chat(survivor.url, 'sk-sb-test-acme-1', { user, messages: ask(`${m} after the kill`) });
      if (answer.status !== 429) break;
      expect(answer.message).not.toContain('tightened');
      expect(Date.now() - killedAt).toBeLessThan(10_000);
      await new Promise((r) => setTimeout(r, answer.retryAfterMs));
    }
    expect(answer.status).toBe(200);
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    t.vendor.clearFaults();
    await held;
  }, 60_000);
});
