/**
 * Streaming that never lies, against the fake vendor's stream faults: the
 * client sees either a complete answer ending in `[DONE]`, or an explicit
 * error event and no `[DONE]` — never a truncated success, never a
 * malformed vendor chunk. A stream broken after its first token resumes on
 * the next attempt (`midStream: resume`, the default) as one coherent
 * stream when the new answer begins with the text already sent; a route
 * with `midStream: error` ends it at once (the `solo-strict` route here).
 */
import { randomUUID } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';
import { startGateway, tenantKeys, type GatewayUnderTest } from '../harness/gateway';
import { eventually, readCallEvents } from '../harness/switchboard';

const marker = (name: string) => `${name}-m${randomUUID().slice(0, 8)}`;
const ask = (text: string) => [{ role: 'user' as const, content: text }];
const FIRST_TOKEN_TIMEOUT_MS = 600;

interface RawStream {
  status: number;
  events: Array<Record<string, unknown>>;
  done: boolean;
  text: string;
  elapsedMs: number;
}

/** Reads an SSE response to its end, raw: what a client really received. */
async function rawStream(t: GatewayUnderTest, route: string, content: string): Promise<RawStream> {
  const started = performance.now();
  const response = await fetch(`${t.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tenantKeys.acme}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: route, messages: ask(content), stream: true, stream_options: { include_usage: true } }),
  });
  const body = await response.text();
  const data = body
    .split('\n\n')
    .filter((block) => block.startsWith('data: '))
    .map((block) => block.slice('data: '.length));
  const events = data.filter((d) => d !== '[DONE]').map((d) => JSON.parse(d) as Record<string, unknown>);
  const text = events
    .flatMap((e) => (e.choices as Array<{ delta?: { content?: string } }> | undefined) ?? [])
    .map((c) => c.delta?.content ?? '')
    .join('');
  return { status: response.status, events, done: data.at(-1) === '[DONE]', text, elapsedMs: performance.now() - started };
}

describe('gateway: streaming', () => {
  let t: GatewayUnderTest;

  beforeAll(async () => {
    t = await startGateway({
      gateway: {
        streamDefaults: { mode: 'relay', firstTokenTimeoutMs: FIRST_TOKEN_TIMEOUT_MS, stallTimeoutMs: 500 },
        streams: {
          'solo-buffered': { mode: 'buffer', firstTokenTimeoutMs: FIRST_TOKEN_TIMEOUT_MS, stallTimeoutMs: 500 },
          'solo-strict': { mode: 'relay', midStream: 'error', firstTokenTimeoutMs: FIRST_TOKEN_TIMEOUT_MS, stallTimeoutMs: 500 },
        },
      },
      configOverrides: {
        // These tests fail org-s on purpose, one fault each: its breaker must not open and hide it from the next test.
        health: { consecutiveFailures: 1_000, minCallsForRate: 1_000 },
        // One attempt per entry: a failed stream moves to the fallback at once.
        retry: { initialIntervalMs: 50, maxIntervalMs: 500, maxAttemptsPerEntry: 1, maxAttempts: 4 },
        routes: {
          'solo-fallback': {
            entries: [
              { provider: 'solo', model: 'gpt-4o-mini' },
              { provider: 'anthropic', model: 'claude-haiku-4-5' },
            ],
          },
          'solo-buffered': {
            entries: [
              { provider: 'solo', model: 'gpt-4o-mini' },
              { provider: 'anthropic', model: 'claude-haiku-4-5' },
            ],
          },
          'solo-strict': {
            entries: [
              { provider: 'solo', model: 'gpt-4o-mini' },
              { provider: 'anthropic', model: 'claude-haiku-4-5' },
            ],
          },
          'anthropic-only': { entries: [{ provider: 'anthropic', model: 'claude-haiku-4-5' }] },
        },
      },
    });
  });
  afterAll(async () => {
    await t?.close();
  });
  afterEach(() => t.vendor.clearFaults());

  it('relays the answer as chunks through the openai client, with usage last', async () => {
    const m = marker('stream');
    const stream = await t.openai().chat.completions.create({
      model: 'solo-fallback',
      messages: ask(`${m} [[say:one two three four five six]]`),
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('one two three four five six');
    expect(chunks.filter((c) => c.choices[0]?.delta.content).length).toBeGreaterThan(1);
    expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0]?.finish_reason).toBe('stop');
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage!.completion_tokens).toBeGreaterThan(0);
    // Every chunk names the answering model, not the route, from the first one on.
    expect([...new Set(chunks.map((c) => c.model))]).toEqual(['gpt-4o-mini']);
    const raw = await rawStream(t, 'solo-fallback', `${m} [[say:again and again]]`);
    expect(raw.done).toBe(true);
  });

  it('abandons a slow first token and answers from the fallback within the TTFT limit plus a margin', async () => {
    const m = marker('slow-ttft');
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m, fault: { kind: 'slow_first_token', ttftMs: 10_000 } });
    const raw = await rawStream(t, 'solo-fallback', `${m} [[say:the fallback answers]]`);
    expect(raw.status).toBe(200);
    expect(raw.text).toBe('the fallback answers');
    expect(raw.done).toBe(true);
    expect(raw.elapsedMs).toBeLessThan(FIRST_TOKEN_TIMEOUT_MS + 3_000);
    expect(t.vendor.requests({ contains: [m] }).map((r) => r.organisation)).toEqual(['openai/org-s', 'anthropic/org-a']);
    // The fallback answered: every chunk names its model.
    expect([...new Set(raw.events.map((e) => e.model))]).toEqual(['claude-haiku-4-5']);
  });

  it('resumes a stream cut mid-answer on the next attempt: one coherent stream, one [DONE], the whole answer', async () => {
    const m = marker('resume-cut');
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m, fault: { kind: 'stream_cut', afterChunks: 3 } });
    const raw = await rawStream(t, 'solo-fallback', `${m} [[say:alpha beta gamma delta epsilon zeta eta]]`);
    expect(raw.text).toBe('alpha beta gamma delta epsilon zeta eta');
    expect(raw.done).toBe(true);
    expect(raw.events.filter((e) => (e.choices as Array<{ finish_reason: unknown }> | undefined)?.[0]?.finish_reason)).toHaveLength(1);
    expect(t.vendor.requests({ contains: [m] }).map((r) => r.organisation)).toEqual(['openai/org-s', 'anthropic/org-a']);
    // The official client reads one whole answer.
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: `${m}-sdk`, fault: { kind: 'stream_cut', afterChunks: 3 } });
    const stream = await t.openai().chat.completions.create({ model: 'solo-fallback', messages: ask(`${m}-sdk [[say:a b c d e f g h]]`), stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('a b c d e f g h');
  });

  it('resumes a stalled stream and a stream broken by a malformed chunk the same way', async () => {
    const stalled = marker('resume-stall');
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: stalled, fault: { kind: 'stream_stall', afterChunks: 2 } });
    const afterStall = await rawStream(t, 'solo-fallback', `${stalled} [[say:one two three four five six seven]]`);
    expect(afterStall).toMatchObject({ text: 'one two three four five six seven', done: true });
    expect(afterStall.elapsedMs).toBeLessThan(10_000);

    const malformed = marker('resume-malformed');
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: malformed, fault: { kind: 'malformed_chunk', afterChunks: 2 } });
    expect(await rawStream(t, 'solo-fallback', `${malformed} [[say:first second third fourth fifth]]`)).toMatchObject({
      text: 'first second third fourth fifth',
      done: true,
    });
  });

  it('skips a malformed chunk that carries no content: the stream completes on the same upstream, nothing resumed', async () => {
    const m = marker('skip-malformed');
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m, fault: { kind: 'malformed_chunk', afterChunks: 2, contentFree: true } });
    const stream = await t.openai().chat.completions.create({ model: 'solo-fallback', messages: ask(`${m} [[say:one two three four five]]`), stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('one two three four five');
    expect(t.vendor.requests({ contains: [m] }).map((r) => [r.organisation, r.fault])).toEqual([['openai/org-s', 'malformed_chunk']]);
    // The same on an Anthropic upstream, through the Anthropic dialect.
    const a = marker('skip-malformed-anthropic');
    t.vendor.setFault({ organisation: 'anthropic/org-a', promptContains: a, fault: { kind: 'malformed_chunk', afterChunks: 2, contentFree: true } });
    const anthropic = new Anthropic({ apiKey: tenantKeys.acme, baseURL: t.url, maxRetries: 0 });
    const message = await anthropic.messages
      .stream({ model: 'anthropic-only', max_tokens: 200, messages: ask(`${a} [[say:six seven eight nine]]`) })
      .finalMessage();
    expect(message.content).toEqual([expect.objectContaining({ type: 'text', text: 'six seven eight nine' })]);
    expect(t.vendor.requests({ contains: [a] }).map((r) => r.organisation)).toEqual(['anthropic/org-a']);
  });

  it('resumes a sampled answer on an Anthropic fallback with the text sent as an assistant prefill: the vendor writes only what follows', async () => {
    // No [[say]]: each model samples its own words, so only a continuation of the prefill can resume the stream.
    const m = marker('resume-prefill');
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m, fault: { kind: 'stream_cut', afterChunks: 3 } });
    const raw = await rawStream(t, 'solo-fallback', `${m} Write two sentences about lighthouses.`);
    expect(raw.done).toBe(true);
    const seen = t.vendor.requests({ contains: [m], includePrompt: true });
    expect(seen.map((r) => r.organisation)).toEqual(['openai/org-s', 'anthropic/org-a']);
    // The fallback was given what the caller already had, as the last (assistant) turn, and the stream is that text and its continuation.
    const prefill = seen[1]!.promptText!.split('\nassistant: ').at(-1)!;
    expect(prefill.length).toBeGreaterThan(0);
    expect(raw.text.startsWith(prefill)).toBe(true);
    expect(raw.text.length).toBeGreaterThan(prefill.length);
  });

  it('never answers a refused prefill with a 400: the fallback is asked again without it, and its diverging answer ends in an error event, never spliced', async () => {
    const m = marker('prefill-refused');
    const since = Date.now();
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m, fault: { kind: 'stream_cut', afterChunks: 3 } });
    const raw = await rawStream(t, 'solo-fallback', `${m} [[noprefill]] Write two sentences about lighthouses.`);
    expect(raw.status).toBe(200);
    expect(raw.done).toBe(false);
    expect(raw.events.at(-1)).toEqual({ error: expect.objectContaining({ code: 'SbStreamBroken' }) });
    expect(JSON.stringify(raw.events.at(-1))).not.toMatch(/prefill|invalid_request/);
    expect(raw.events.some((e) => Array.isArray(e.choices) && (e.choices as Array<{ finish_reason: unknown }>)[0]?.finish_reason)).toBe(false);
    // (A refused request is logged before its prompt is read: find it by time.)
    const seen = t.vendor
      .requests({ since })
      .filter((r) => r.organisation === 'anthropic/org-a' || (r.promptText ?? '').includes(m) || r.organisation === 'openai/org-s');
    expect(seen.map((r) => [r.organisation, r.status])).toEqual([
      ['openai/org-s', 200],
      ['anthropic/org-a', 400],
      ['anthropic/org-a', 200],
    ]);
    // The refusal is on record as its own CallEvent, beside the attempt's own.
    const refusals = await eventually("the refused prefill's CallEvent", async () => {
      const found = await readCallEvents(
        t.nats,
        (e) => e.upstream === 'anthropic/org-a' && e.at >= since && (e.errorMessage ?? '').startsWith('assistant prefill refused'),
      );
      return found.length ? found : undefined;
    });
    expect(refusals[0]).toMatchObject({ outcome: 'caller_fault', status: 400 });
  });

  it('answers a refused prefill whole through the official client when the fallback, asked again without it, begins with the text sent', async () => {
    const m = marker('prefill-refused-whole');
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m, fault: { kind: 'stream_cut', afterChunks: 3 } });
    const stream = await t
      .openai()
      .chat.completions.create({ model: 'solo-fallback', messages: ask(`${m} [[noprefill]] [[say:one two three four five six seven]]`), stream: true });
    let text = '';
    const finishes: unknown[] = [];
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.choices[0]?.finish_reason) finishes.push(chunk.choices[0].finish_reason);
    }
    expect(text).toBe('one two three four five six seven');
    expect(finishes).toHaveLength(1);
  });

  it('with midStream: error, never presents a stream cut mid-answer as a success', async () => {
    const m = marker('cut');
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m, fault: { kind: 'stream_cut', afterChunks: 3 } });
    const raw = await rawStream(t, 'solo-strict', `${m} [[say:alpha beta gamma delta epsilon zeta eta]]`);
    expect(raw.done).toBe(false);
    expect(raw.events.at(-1)).toEqual({ error: expect.objectContaining({ code: 'SbStreamBroken' }) });
    expect(raw.events.some((e) => Array.isArray(e.choices) && (e.choices as Array<{ finish_reason: unknown }>)[0]?.finish_reason)).toBe(false);
    // The official client raises instead of returning a short answer.
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: `${m}-sdk`, fault: { kind: 'stream_cut', afterChunks: 3 } });
    const stream = await t.openai().chat.completions.create({ model: 'solo-strict', messages: ask(`${m}-sdk [[say:a b c d e f g h]]`), stream: true });
    await expect(
      (async () => {
        for await (const _chunk of stream) {
          // drain
        }
      })(),
    ).rejects.toThrow(/broke off/);
  });

  it('with midStream: error, never presents a stalled stream as a success, and ends it promptly', async () => {
    const m = marker('stall');
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m, fault: { kind: 'stream_stall', afterChunks: 2 } });
    const raw = await rawStream(t, 'solo-strict', `${m} [[say:one two three four five six seven]]`);
    expect(raw.done).toBe(false);
    expect(raw.events.at(-1)).toEqual({ error: expect.objectContaining({ code: 'SbStreamBroken' }) });
    expect(raw.elapsedMs).toBeLessThan(10_000);
  });

  it('recovers a cut stream transparently on a buffer-then-commit route', async () => {
    const m = marker('buffered');
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m, fault: { kind: 'stream_cut', afterChunks: 3 } });
    const raw = await rawStream(t, 'solo-buffered', `${m} [[say:complete answer from the fallback]]`);
    expect(raw.text).toBe('complete answer from the fallback');
    expect(raw.done).toBe(true);
    expect(t.vendor.requests({ contains: [m] }).map((r) => r.organisation)).toEqual(['openai/org-s', 'anthropic/org-a']);
  });

  it('never leaks a malformed vendor chunk, and stays healthy', async () => {
    // (The openai SDK inside the worker prints the unparseable chunk on console.error: that output is expected.)
    const early = marker('malformed-early');
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: early, fault: { kind: 'malformed_chunk', afterChunks: 0 } });
    const recovered = await rawStream(t, 'solo-fallback', `${early} [[say:clean fallback text]]`);
    expect(recovered.text).toBe('clean fallback text');
    expect(recovered.done).toBe(true);

    const late = marker('malformed-late');
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: late, fault: { kind: 'malformed_chunk', afterChunks: 2 } });
    const broken = await rawStream(t, 'solo-strict', `${late} [[say:first second third fourth fifth]]`);
    expect(broken.done).toBe(false);
    expect('first second third fourth fifth'.startsWith(broken.text)).toBe(true);
    expect(broken.events.at(-1)).toEqual({ error: expect.objectContaining({ code: 'SbStreamBroken' }) });

    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    const after = await rawStream(t, 'solo-fallback', `${marker('after')} [[say:still fine]]`);
    expect(after.text).toBe('still fine');
    expect(after.done).toBe(true);
  });

  it('relays Anthropic streams live through the official client: text deltas as they come, stop reason and usage at the end', async () => {
    const anthropic = new Anthropic({ apiKey: tenantKeys.acme, baseURL: t.url, maxRetries: 0 });
    const m = marker('anthropic-live');
    const stream = anthropic.messages.stream({ model: 'solo-fallback', max_tokens: 200, messages: ask(`${m} [[say:one two three four five six]]`) });
    const deltas: string[] = [];
    stream.on('text', (delta) => deltas.push(delta));
    const started: string[] = [];
    stream.on('streamEvent', (event) => void (event.type === 'message_start' && started.push(event.message.model)));
    const final = await stream.finalMessage();
    expect(deltas.join('')).toBe('one two three four five six');
    // message_start goes out with the first token and already names the answering model.
    expect(started).toEqual(['gpt-4o-mini']);
    // Live, not assembled at the end: the vendor's deltas arrive one by one.
    expect(deltas.length).toBeGreaterThan(1);
    expect(final.content).toEqual([{ type: 'text', text: 'one two three four five six' }]);
    expect(final.stop_reason).toBe('end_turn');
    expect(final.usage.output_tokens).toBeGreaterThan(0);
  });

  it('resumes a cut Anthropic-dialect stream: the official client reads one whole message', async () => {
    const m = marker('anthropic-resume');
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m, fault: { kind: 'stream_cut', afterChunks: 3 } });
    const anthropic = new Anthropic({ apiKey: tenantKeys.acme, baseURL: t.url, maxRetries: 0 });
    const stream = anthropic.messages.stream({ model: 'solo-fallback', max_tokens: 200, messages: ask(`${m} [[say:a b c d e f g h]]`) });
    const final = await stream.finalMessage();
    expect(final.content).toEqual([{ type: 'text', text: 'a b c d e f g h' }]);
    expect(final.stop_reason).toBe('end_turn');
  });

  it('with midStream: error, ends a cut Anthropic stream with an error event and no message_stop; the official client raises', async () => {
    const m = marker('anthropic-cut');
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m, fault: { kind: 'stream_cut', afterChunks: 3 } });
    const response = await fetch(`${t.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': tenantKeys.acme, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'solo-strict', max_tokens: 200, stream: true, messages: ask(`${m} [[say:alpha beta gamma delta epsilon zeta eta]]`) }),
    });
    const events = (await response.text())
      .split('\n\n')
      .filter(Boolean)
      .map((block) => block.split('\n')[0]!.replace('event: ', ''));
    expect(events).toContain('content_block_delta');
    expect(events).not.toContain('message_stop');
    expect(events.at(-1)).toBe('error');

    const anthropic = new Anthropic({ apiKey: tenantKeys.acme, baseURL: t.url, maxRetries: 0 });
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: `${m}-sdk`, fault: { kind: 'stream_cut', afterChunks: 3 } });
    const stream = anthropic.messages.stream({ model: 'solo-strict', max_tokens: 200, messages: ask(`${m}-sdk [[say:a b c d e f g h]]`) });
    await expect(stream.finalMessage()).rejects.toThrow(/broke off/);
  });

  it('finalises a stream whose vendor forgets [DONE] promptly, with usage', async () => {
    const m = marker('no-done');
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m, fault: { kind: 'missing_done', holdOpenMs: 20_000 } });
    const raw = await rawStream(t, 'solo-fallback', `${m} [[say:finished without done]]`);
    expect(raw.text).toBe('finished without done');
    expect(raw.done).toBe(true);
    expect(raw.events.at(-1)).toEqual(expect.objectContaining({ usage: expect.objectContaining({ completion_tokens: expect.any(Number) }) }));
    expect(raw.elapsedMs).toBeLessThan(5_000);
    expect(t.vendor.requests({ contains: [m] })).toHaveLength(1);

    const a = marker('no-message-stop');
    t.vendor.setFault({ organisation: 'anthropic/org-a', promptContains: a, fault: { kind: 'missing_done', holdOpenMs: 20_000 } });
    const anthropic = await rawStream(t, 'anthropic-only', `${a} [[say:anthropic forgot to stop]]`);
    expect(anthropic.text).toBe('anthropic forgot to stop');
    expect(anthropic.done).toBe(true);
    expect(anthropic.elapsedMs).toBeLessThan(5_000);
  });
});
