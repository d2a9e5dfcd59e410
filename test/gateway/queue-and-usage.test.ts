/**
 * Admission beyond reject-or-admit, through the official `openai` client on
 * the real stack: a route that queues a user's excess (bounded wait, in line
 * behind that user's earlier requests), and tokens/min budgets corrected with
 * each call's real usage.
 */
import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import { startGateway, type GatewayUnderTest } from '../harness/gateway';

const marker = (name: string) => `${name}-m${randomUUID().slice(0, 8)}`;
const ask = (text: string) => [{ role: 'user' as const, content: text }];
const newUser = () => `u-${randomUUID().slice(0, 8)}`;

async function outcome(promise: Promise<unknown>): Promise<{ status: number; code?: string | null }> {
  try {
    await promise;
    return { status: 200 };
  } catch (error) {
    if (error instanceof OpenAI.APIError) return { status: error.status ?? 0, code: (error.error as { code?: string } | undefined)?.code ?? null };
    throw error;
  }
}

describe('gateway: queueing routes and usage-corrected token budgets', () => {
  let t: GatewayUnderTest;
  let openai: OpenAI;

  beforeAll(async () => {
    t = await startGateway({
      gateway: {
        admission: {
          segments: { untrusted: { concurrent: 1, tokensPerMinute: 2_000 }, trusted: {}, premium: {} },
          queues: { 'solo-only': { maxWaitMs: 20_000 }, 'solo-fallback': { maxWaitMs: 300 } },
        },
      },
    });
    openai = t.openai();
  });
  afterAll(async () => {
    await t?.close();
  });
  afterEach(() => t.vendor.clearFaults());

  it("lets a user's excess wait in line on a queueing route, where another route refuses it", async () => {
    const m = marker('queued');
    const user = newUser();
    const queued = await Promise.all(
      [0, 1, 2].map((i) => outcome(openai.chat.completions.create({ model: 'solo-only', user, messages: ask(`${m} batch item ${i}`) }))),
    );
    expect(queued).toEqual([{ status: 200 }, { status: 200 }, { status: 200 }]);
    expect(t.vendor.requests({ contains: [m] })).toHaveLength(3);
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/sb_gateway_admission_queued_total\{route="solo-only"\} [1-9]/);

    const r = marker('refused');
    const other = newUser();
    const refused = await Promise.all(
      [0, 1, 2].map((i) => outcome(openai.chat.completions.create({ model: 'chat-default', user: other, messages: ask(`${r} chat ${i}`) }))),
    );
    expect(refused.filter((o) => o.status === 200).length).toBeGreaterThanOrEqual(1);
    expect(refused.filter((o) => o.status === 429 && o.code === 'concurrent').length).toBeGreaterThanOrEqual(1);
    expect(t.vendor.requests({ contains: [r] })).toHaveLength(refused.filter((o) => o.status === 200).length);
  });

  it('refuses with 429 once a request would wait longer than the route allows, without calling the vendor for it', async () => {
    const m = marker('impatient');
    const user = newUser();
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: `${m} slow`, fault: { kind: 'latency', ms: 3_000 } });
    const slow = outcome(openai.chat.completions.create({ model: 'solo-fallback', user, messages: ask(`${m} slow`) }));
    // The slow call holds the user's only slot; the next one may wait 300 ms at most.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const started = performance.now();
    const waited = await outcome(openai.chat.completions.create({ model: 'solo-fallback', user, messages: ask(`${m} next`) }));
    expect(waited).toEqual({ status: 429, code: 'queue_timeout' });
    expect(performance.now() - started).toBeLessThan(2_500);
    expect(await slow).toEqual({ status: 200 });
    expect(t.vendor.requests({ contains: [`${m} next`] })).toHaveLength(0);
  });

  // On a route that does not queue (a queueing one would let the next request wait for the refill).
  it('gives back what a call did not use of its estimate, and charges what it used beyond it', async () => {
    const m = marker('tokens');
    const user = newUser();
    // Estimated at its completion budget (1,500 of the user's 2,000 tokens/min), answered in a few tokens.
    const big = () => openai.chat.completions.create({ model: 'chat-default', user, max_tokens: 1_500, messages: ask(`${m} [[say:ok]]`) });
    expect(await outcome(big())).toEqual({ status: 200 });
    // Without the refund this one would not fit (2,000 − 1,5xx < 1,5xx).
    expect(await outcome(big())).toEqual({ status: 200 });

    const heavy = newUser();
    // Estimated at the default 256-token completion budget, answered in 1,900 tokens: the user is in debt.
    const long = await openai.chat.completions.create({ model: 'chat-default', user: heavy, messages: ask(`${m} [[tokens:1900]]`) });
    expect(long.usage!.completion_tokens).toBeGreaterThanOrEqual(1_900);
    const after = await outcome(openai.chat.completions.create({ model: 'chat-default', user: heavy, messages: ask(`${m} small`) }));
    expect(after).toEqual({ status: 429, code: 'tokens_per_minute' });
  });
});
