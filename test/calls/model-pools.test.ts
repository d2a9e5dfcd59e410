/**
 * Upstreams that serve only some models (an organisation without access to
 * the large model): picked only for entries naming one of theirs, on the real
 * stack (the fake vendor's log says who was asked); a route no upstream can
 * serve is a config error naming the entry.
 */
import { randomUUID } from 'node:crypto';
import { parseConfig } from '../../lib/config/load';
import { startSwitchboard, switchboardConfig, type SwitchboardUnderTest } from '../harness/switchboard';

const marker = (name: string) => `${name}-m${randomUUID().slice(0, 8)}`;
const ask = (text: string) => [{ role: 'user' as const, content: text }];

function providers(vendorUrl: string) {
  return {
    openai: {
      protocol: 'openai' as const,
      baseUrl: `${vendorUrl}/v1`,
      upstreams: [
        { name: 'org-a', apiKeyEnv: 'SB_TEST_KEY_OPENAI_A' },
        { name: 'org-b', apiKeyEnv: 'SB_TEST_KEY_OPENAI_B', models: ['gpt-4o-mini'] },
        { name: 'org-c', apiKeyEnv: 'SB_TEST_KEY_OPENAI_C' },
      ],
    },
  };
}

describe('upstreams that serve some models only', () => {
  let t: SwitchboardUnderTest;

  beforeAll(async () => {
    t = await startSwitchboard({
      configOverrides: (vendorUrl) => ({
        providers: providers(vendorUrl),
        health: { consecutiveFailures: 10_000, minCallsForRate: 10_000, rateLimitPersistCount: 10_000 },
        routes: {
          big: { entries: [{ provider: 'openai', model: 'gpt-4o' }] },
          small: { entries: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        },
      }),
    });
  });
  afterAll(async () => {
    await t?.close();
  });
  afterEach(() => t.vendor.clearFaults());

  it('never picks an upstream for a model it does not serve, and walks only the ones that do', async () => {
    const m = marker('big');
    for (let i = 0; i < 9; i++) await t.sb.complete({ route: 'big', messages: ask(`${m} ${i}`) });
    const asked = new Set(t.vendor.requests({ contains: [m] }).map((r) => r.organisation));
    expect(asked.has('openai/org-b')).toBe(false);
    expect(asked).toEqual(new Set(['openai/org-a', 'openai/org-c']));

    const s = marker('small');
    for (let i = 0; i < 9; i++) await t.sb.complete({ route: 'small', messages: ask(`${s} ${i}`) });
    expect(new Set(t.vendor.requests({ contains: [s] }).map((r) => r.organisation))).toEqual(new Set(['openai/org-a', 'openai/org-b', 'openai/org-c']));

    // A persistent 503: the walk covers the two upstreams that serve gpt-4o, then gives up — org-b is not "untried".
    const down = marker('down');
    for (const org of ['org-a', 'org-b', 'org-c'])
      t.vendor.setFault({ organisation: `openai/${org}`, promptContains: down, fault: { kind: 'status', status: 503 } });
    await expect(t.sb.complete({ route: 'big', messages: ask(down) })).rejects.toThrow();
    const walked = t.vendor.requests({ contains: [down] }).map((r) => r.organisation);
    expect(new Set(walked)).toEqual(new Set(['openai/org-a', 'openai/org-c']));
  });

  it('rejects a route entry no upstream of its provider serves, naming the entry', () => {
    const config = switchboardConfig('http://127.0.0.1:1', {
      providers: {
        openai: {
          protocol: 'openai',
          baseUrl: 'http://127.0.0.1:1/v1',
          upstreams: [{ name: 'org-b', apiKeyEnv: 'SB_TEST_KEY_OPENAI_B', models: ['gpt-4o-mini'] }],
        },
      },
      routes: { big: { entries: [{ provider: 'openai', model: 'gpt-4o' }] } },
    });
    expect(() => parseConfig(config, 'test config')).toThrow(/routes\.big\.entries\[0\]\.model: no upstream of "openai" serves model "gpt-4o"/);
  });
});
