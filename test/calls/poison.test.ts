/**
 * Poison never reaches a vendor or a breaker: a schema we could not use is a
 * 400 at the boundary (gateway, typed client) before anything starts; a
 * failure of our own code after the vendor answered is "ours" — one vendor
 * request, one clear error, no retry elsewhere, no breaker event.
 */
import { randomUUID } from 'node:crypto';
import { JSONCodec, type Subscription } from 'nats';
import { APIError } from 'openai';
import { SwitchboardCallError, SwitchboardRequestError } from '../../lib/client/errors';
import { BREAKER_CLUSTER_HEADER, breakerSubject } from '../../contracts/names';
import { startGateway, tenantKeys, type GatewayUnderTest } from '../harness/gateway';
import { eventually, readCallEvents } from '../harness/switchboard';

/** `{"a":{"a":…}}` `depth` levels deep, as JSON text (JSON.stringify itself overflows its stack on it). */
function nestedJson(depth: number): string {
  return `${'{"a":'.repeat(depth)}{}${'}'.repeat(depth)}`;
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('poison requests', () => {
  let t: GatewayUnderTest;
  let breakerEvents: Subscription;
  const seenBreakerEvents: unknown[] = [];
  beforeAll(async () => {
    t = await startGateway({
      configOverrides: {
        // One failure would open a breaker: any poison counted against the vendor shows at once.
        health: { consecutiveFailures: 1 },
        routes: {
          'solo-only': { entries: [{ provider: 'solo', model: 'gpt-4o-mini' }] },
          // A validator the worker does not have: our own check fails after the vendor answered.
          'broken-check': {
            entries: [
              { provider: 'solo', model: 'gpt-4o-mini' },
              { provider: 'anthropic', model: 'claude-haiku-4-5' },
            ],
            validation: { validator: 'not-registered' },
          },
        },
      },
    });
    breakerEvents = t.nats.subscribe(breakerSubject('>'));
    void (async () => {
      for await (const message of breakerEvents) {
        // Other test files share this NATS: only this Switchboard's cluster counts.
        if (message.headers?.get(BREAKER_CLUSTER_HEADER) === t.taskQueue) seenBreakerEvents.push(JSONCodec().decode(message.data));
      }
    })();
  });
  afterAll(async () => {
    breakerEvents?.unsubscribe();
    await t?.close();
  });

  it('answers 400 naming response_format.json_schema.schema for a schema that cannot compile, and calls no vendor', async () => {
    const m = `poison-schema-${randomUUID().slice(0, 8)}`;
    const error = await rejectionOf(
      t.openai().chat.completions.create({
        model: 'solo-only',
        messages: [{ role: 'user', content: `Plan ${m}` }],
        response_format: { type: 'json_schema', json_schema: { name: 'plan', schema: { type: 'foo' } } },
      }),
    );
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBe(400);
    expect((error as APIError).param).toBe('response_format.json_schema.schema');
    expect((error as APIError).message).toContain('Unsupported type: foo');
    expect(t.vendor.requests({ contains: [m] })).toHaveLength(0);
  });

  it('answers 400 naming the tool for parameters nested thousands deep, and calls no vendor', async () => {
    const m = `poison-tool-${randomUUID().slice(0, 8)}`;
    // Plain HTTP: the official SDK overflows its own stack on such a body before sending it.
    const response = await fetch(`${t.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenantKeys.acme}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'solo-only',
        messages: [{ role: 'user', content: `Weather ${m}` }],
        tools: [{ type: 'function', function: { name: 'deep', parameters: { type: 'object', properties: { x: '<deep>' } } } }],
      }).replace('"<deep>"', nestedJson(5_000)),
    });
    const body = (await response.json()) as { error: { param: string; message: string } };
    expect(response.status).toBe(400);
    expect(body.error.param).toBe('tools.0.function.parameters');
    expect(body.error.message).toMatch(/nested more than \d+ levels/);
    expect(t.vendor.requests({ contains: [m] })).toHaveLength(0);
  });

  it('names OpenAI parameters, not internal paths', async () => {
    const error = await rejectionOf(t.openai().chat.completions.create({ model: 'solo-only', messages: [{ role: 'user', content: 'hi' }], top_p: 7 }));
    expect((error as APIError).status).toBe(400);
    expect((error as APIError).param).toBe('top_p');
  });

  it('refuses the same schema in the typed client before starting anything', async () => {
    const m = `poison-client-${randomUUID().slice(0, 8)}`;
    const error = await rejectionOf(
      t.sb.complete({ route: 'solo-only', messages: [{ role: 'user', content: `Plan ${m}` }], output: { name: 'plan', schema: { type: 'foo' } } }),
    );
    expect(error).toBeInstanceOf(SwitchboardRequestError);
    expect((error as SwitchboardRequestError).field).toBe('output.schema');
    expect(t.vendor.requests({ contains: [m] })).toHaveLength(0);
  });

  it('classifies a failure of our own check after the vendor answered as ours: 1 vendor request, no fallback, no breaker event', async () => {
    const m = `poison-ours-${randomUUID().slice(0, 8)}`;
    const error = await rejectionOf(t.sb.complete({ route: 'broken-check', messages: [{ role: 'user', content: `Say hi ${m}` }] }));
    expect(error).toBeInstanceOf(SwitchboardCallError);
    expect((error as SwitchboardCallError).type).toBe('SbInternalError');
    expect((error as SwitchboardCallError).message).toContain('not-registered');
    expect(t.vendor.requests({ contains: [m] })).toHaveLength(1);
    const events = await eventually(
      'the CallEvent of the attempt',
      async () => {
        const found = await readCallEvents(t.nats, (e) => e.route === 'broken-check' && e.tenant === 'default' && e.outcome === 'internal');
        return found.length ? found : undefined;
      },
      30_000,
    );
    expect(events.map((e) => [e.upstream, e.outcome, e.errorType])).toEqual([['solo/org-s', 'internal', 'internal_check']]);

    // Through the gateway: one clear 500 naming the failure type, again one vendor request.
    const g = `poison-gateway-${randomUUID().slice(0, 8)}`;
    const viaGateway = await rejectionOf(t.openai().chat.completions.create({ model: 'broken-check', messages: [{ role: 'user', content: `Say hi ${g}` }] }));
    expect((viaGateway as APIError).status).toBe(500);
    expect((viaGateway as APIError).code).toBe('SbInternalError');
    expect(t.vendor.requests({ contains: [g] })).toHaveLength(1);

    // A breaker that counted either failure would have opened at once (consecutiveFailures 1); a healthy
    // call after them reaches the same upstream, and by the time its CallEvent is in, no transition was published.
    const ok = await t.sb.complete({ route: 'solo-only', messages: [{ role: 'user', content: `Still fine ${m}` }] });
    expect(ok.upstream).toBe('solo/org-s');
    await eventually(
      'the healthy CallEvent',
      async () => ((await readCallEvents(t.nats, (e) => e.callId === ok.callId && e.outcome === 'success')).length ? true : undefined),
      30_000,
    );
    expect(seenBreakerEvents).toEqual([]);
  });
});
