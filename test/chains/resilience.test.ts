/**
 * A chain survives what a single call survives, from the middle of its
 * fan-out on: a vendor outage sends the remaining steps to the fallback, and
 * an operator's failover flip is honoured by every call planned after it.
 * The first two wireframes are held at the vendor (latency fault) while the
 * outage or the flip happens, so "the middle" is exact, not a race.
 */
import { randomUUID } from 'node:crypto';
import { setFailover } from '../../lib/control/failover';
import { sitePlannerChain } from '../../lib/chains/site-planner';
import type { ChainResult } from '../../schemas/chain';
import { eventually, startSwitchboard, type SwitchboardUnderTest } from '../harness/switchboard';

const openaiOrgs = ['openai/org-a', 'openai/org-b', 'openai/org-c'];

function interview(marker: string) {
  return { business: `Bakery ${marker}`, audience: 'neighbours', goals: [`order cakes ${marker}`], pageCount: 6 };
}

function providersByCall(result: ChainResult): Record<string, string> {
  return Object.fromEntries(result.calls.map((c) => [`${c.step}${c.index === undefined ? '' : `/${c.index}`}`, c.provider]));
}

describe('agentChain resilience in the middle of a fan-out', () => {
  let t: SwitchboardUnderTest;
  beforeAll(async () => {
    t = await startSwitchboard();
  });
  afterEach(async () => {
    t.vendor.clearFaults();
    await setFailover(t.nats, null, { by: 'jest' }, t.controlBucket);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Starts the site planner (6 pages, 2 calls at a time) with wireframes 0 and 1 held at the vendor; resolves once both are there. */
  async function startWithTwoHeld(m: string) {
    for (const organisation of openaiOrgs) {
      for (const page of ['Page 0:', 'Page 1:']) t.vendor.setFault({ organisation, promptContains: page, fault: { kind: 'latency', ms: 3_000 } });
    }
    const handle = await t.sb.startChain({ chain: sitePlannerChain({ route: 'chat-default', maxConcurrency: 2 }), input: interview(m) });
    const held = () => ['Page 0:', 'Page 1:'].every((page) => t.vendor.requests({ contains: [m, page] }).length === 1);
    await eventually('wireframes 0 and 1 to be held at the vendor', () => held() || undefined, 20_000);
    return handle;
  }

  const expectedProviders = {
    siteMap: 'openai',
    'wireframes/0': 'openai',
    'wireframes/1': 'openai',
    'wireframes/2': 'anthropic',
    'wireframes/3': 'anthropic',
    'wireframes/4': 'anthropic',
    'wireframes/5': 'anthropic',
    launchChecklist: 'anthropic',
  };

  it('an operator failover flip mid-chain is honoured by every call planned after it', async () => {
    const m = `flip-${randomUUID().slice(0, 8)}`;
    const handle = await startWithTwoHeld(m);
    await setFailover(t.nats, 'openai', { reason: 'test: mid-chain flip', by: 'jest' }, t.controlBucket);
    await eventually('the worker to see the flip', () => (t.worker!.failover.avoidedProvider() === 'openai' ? true : undefined), 20_000);

    const result = await handle.result();
    expect(providersByCall(result)).toEqual(expectedProviders);
    // OpenAI saw only the three calls planned before the flip; nothing was refused or retried.
    const sent = t.vendor.requests({ contains: [m] });
    expect(sent.filter((r) => r.protocol === 'openai')).toHaveLength(3);
    expect(sent.filter((r) => r.protocol === 'anthropic')).toHaveLength(5);
    expect(sent.every((r) => r.status === 200)).toBe(true);
  });

  // Last: the outage leaves OpenAI's breakers open for the rest of this file.
  it('a vendor outage mid-chain: the remaining steps fall back to the next vendor', async () => {
    const m = `outage-${randomUUID().slice(0, 8)}`;
    const handle = await startWithTwoHeld(m);
    const outageAt = Date.now();
    for (const organisation of openaiOrgs) t.vendor.setFault({ organisation, fault: { kind: 'status', status: 503 } });

    const result = await handle.result();
    expect(providersByCall(result)).toEqual(expectedProviders);
    // What the vendors saw: every OpenAI request after the outage was refused; Anthropic answered the remaining five calls once each.
    const afterOutage = t.vendor.requests({ contains: [m], since: outageAt }).filter((r) => r.protocol === 'openai');
    expect(afterOutage.length).toBeGreaterThan(0);
    expect(afterOutage.every((r) => r.status === 503)).toBe(true);
    expect(t.vendor.requests({ contains: [m] }).filter((r) => r.protocol === 'anthropic' && r.status === 200)).toHaveLength(5);
  });
});
