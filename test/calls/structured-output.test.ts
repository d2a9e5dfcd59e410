/**
 * Structured output from one zod schema, realised per vendor (OpenAI
 * response_format json_schema, Anthropic forced tool use), and tool calls.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { eventually, readCallEvents, startSwitchboard, type SwitchboardUnderTest } from '../harness/switchboard';

const SiteMap = z.object({
  pages: z.array(z.object({ title: z.string(), goal: z.string(), sections: z.array(z.string()).min(1) })).min(2),
  tone: z.enum(['friendly', 'formal']),
});

describe('structured output and tools through llmCall', () => {
  let t: SwitchboardUnderTest;
  beforeAll(async () => {
    // Breakers stay out of the way here: these tests pin down the workflow's own retry and fallback logic.
    t = await startSwitchboard({ configOverrides: { health: { consecutiveFailures: 10_000, minCallsForRate: 10_000, rateLimitPersistCount: 10_000 } } });
  });
  afterAll(async () => {
    await t?.close();
  });
  afterEach(() => t.vendor.clearFaults());

  it('returns output parsed by the zod schema from OpenAI', async () => {
    const m = `structured-${randomUUID().slice(0, 8)}`;
    const result = await t.sb.completeStructured(
      { route: 'chat-default', messages: [{ role: 'user', content: `Plan a bakery site ${m}` }] },
      'site_map',
      SiteMap,
    );
    expect(result.provider).toBe('openai');
    expect(SiteMap.parse(result.output)).toEqual(result.output);
    expect(result.output.pages.length).toBeGreaterThanOrEqual(2);
    expect(JSON.parse(result.text)).toEqual(result.output);
  });

  it('realises the same schema as forced tool use on Anthropic after a fallback', async () => {
    const m = `structured-fallback-${randomUUID().slice(0, 8)}`;
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m, fault: { kind: 'status', status: 503 } });
    const result = await t.sb.completeStructured(
      { route: 'solo-fallback', messages: [{ role: 'user', content: `Plan a florist site ${m}` }] },
      'site_map',
      SiteMap,
    );
    expect(result.provider).toBe('anthropic');
    expect(SiteMap.parse(result.output)).toEqual(result.output);
  });

  it('retries an answer that is not JSON when a schema was asked, and never counts it against the vendor', async () => {
    const m = `invalid-json-${randomUUID().slice(0, 8)}`;
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m, times: 1, fault: { kind: 'invalid_json' } });
    const result = await t.sb.completeStructured({ route: 'solo-only', messages: [{ role: 'user', content: `Plan ${m}` }] }, 'site_map', SiteMap);
    expect(result.attempts.map((a) => a.outcome)).toEqual(['invalid_output', 'success']);
    expect(SiteMap.parse(result.output)).toEqual(result.output);
    // The health registry sees `invalid_output`, which is never a breaker failure.
    const events = await eventually(
      '2 CallEvents',
      async () => {
        const found = await readCallEvents(t.nats, (e) => e.callId === result.callId);
        return found.length >= 2 ? found : undefined;
      },
      30_000,
    );
    expect(events.map((e) => [e.outcome, e.errorType])).toEqual([
      ['invalid_output', 'json_parse'],
      ['success', undefined],
    ]);
  });

  it('reports a clean answer from the fallback as passed after the primary answered invalid JSON on every try', async () => {
    const m = `repairs-exhausted-${randomUUID().slice(0, 8)}`;
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m, fault: { kind: 'invalid_json' } });
    const result = await t.sb.completeStructured(
      { route: 'solo-fallback', messages: [{ role: 'user', content: `Plan a cafe site ${m}` }] },
      'site_map',
      SiteMap,
    );
    expect(result.provider).toBe('anthropic');
    expect(result.attempts.filter((a) => a.provider === 'solo').map((a) => a.outcome)).toEqual(['invalid_output', 'invalid_output', 'invalid_output']);
    expect(result.attempts.at(-1)).toEqual(expect.objectContaining({ provider: 'anthropic', outcome: 'success' }));
    // The answer the caller got was Anthropic's first, and it passed.
    expect(result.validation).toBe('passed');
  });

  it('returns tool calls with arguments for the tool schema', async () => {
    const m = `tools-${randomUUID().slice(0, 8)}`;
    const result = await t.sb.complete({
      route: 'solo-only',
      messages: [{ role: 'user', content: `What is the weather in Lisbon? [[tool]] ${m}` }],
      tools: [
        { name: 'get_weather', description: 'Current weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
      ],
      toolChoice: 'auto',
    });
    expect(result.finishReason).toBe('tool_calls');
    expect(result.toolCalls).toEqual([expect.objectContaining({ name: 'get_weather' })]);
    const args = JSON.parse(result.toolCalls![0]!.arguments) as { city?: unknown };
    expect(typeof args.city).toBe('string');
  });
});
