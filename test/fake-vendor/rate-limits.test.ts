import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { startFakeVendor, type FakeVendor } from '../../services/fake-vendor';
import { anthropicClient, openAiClient, rejectionOf } from './fixtures';

// A hand-driven clock: the limiter refills only when the test says so.
let nowMs = Date.UTC(2025, 0, 1, 12, 0, 0);
const clock = () => nowMs;
let vendor: FakeVendor;

beforeAll(async () => {
  vendor = await startFakeVendor({
    now: clock,
    port: 0,
    config: {
      organisations: [
        {
          id: 'openai/small',
          protocol: 'openai',
          rpm: 3,
          tpm: 100_000,
          keys: [
            { name: 's1', key: 'sk-small-key-1' },
            { name: 's2', key: 'sk-small-key-2' },
          ],
        },
        { id: 'openai/few-tokens', protocol: 'openai', rpm: 1000, tpm: 60, keys: [{ name: 't1', key: 'sk-few-tokens-1' }] },
        { id: 'anthropic/small', protocol: 'anthropic', rpm: 2, tpm: 100_000, keys: [{ name: 'a1', key: 'sk-ant-small-1' }] },
      ],
    },
  });
});
afterAll(() => vendor.close());

const user = (content: string): OpenAI.ChatCompletionMessageParam[] => [{ role: 'user', content }];

describe('per-organisation rate limits', () => {
  it('sends OpenAI x-ratelimit-* headers, answers 429 with retry-after over the limit, and refills with time', async () => {
    const first = await openAiClient(vendor, 'sk-small-key-1')
      .chat.completions.create({ model: 'gpt-4o', messages: user('[[tokens:10]]') })
      .withResponse();
    expect(first.response.headers.get('x-ratelimit-limit-requests')).toBe('3');
    expect(first.response.headers.get('x-ratelimit-remaining-requests')).toBe('2');
    expect(first.response.headers.get('x-ratelimit-reset-requests')).toBe('20s');
    expect(first.response.headers.get('x-ratelimit-limit-tokens')).toBe('100000');
    const spent = first.data.usage?.total_tokens ?? 0;
    expect(first.response.headers.get('x-ratelimit-remaining-tokens')).toBe(String(100_000 - spent));
    expect(first.response.headers.get('x-ratelimit-reset-tokens')).toMatch(/^\d+(\.\d+)?(ms|s)$/);

    // The limit belongs to the organisation, whichever of its keys is used.
    await openAiClient(vendor, 'sk-small-key-2').chat.completions.create({ model: 'gpt-4o', messages: user('b') });
    await openAiClient(vendor, 'sk-small-key-1').chat.completions.create({ model: 'gpt-4o', messages: user('c') });
    const error = await rejectionOf(openAiClient(vendor, 'sk-small-key-2').chat.completions.create({ model: 'gpt-4o', messages: user('d') }));
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const limited = error as InstanceType<typeof OpenAI.RateLimitError>;
    expect(limited.status).toBe(429);
    expect(limited.code).toBe('rate_limit_exceeded');
    expect(limited.type).toBe('requests');
    expect(limited.headers?.get('retry-after')).toBe('20');
    expect(limited.headers?.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(limited.message).toContain('Limit 3');

    nowMs += 20_000;
    const refilled = await openAiClient(vendor, 'sk-small-key-1')
      .chat.completions.create({ model: 'gpt-4o', messages: user('e') })
      .withResponse();
    expect(refilled.response.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(vendor.requests({ organisation: 'openai/small' }).map((r) => r.status)).toEqual([200, 200, 200, 429, 200]);
  });

  it('limits tokens per minute too', async () => {
    const client = openAiClient(vendor, 'sk-few-tokens-1');
    await client.chat.completions.create({ model: 'gpt-4o', messages: user('[[tokens:40]]') });
    const error = await rejectionOf(client.chat.completions.create({ model: 'gpt-4o', messages: user('[[tokens:40]]') }));
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect((error as InstanceType<typeof OpenAI.RateLimitError>).type).toBe('tokens');
    expect(Number((error as InstanceType<typeof OpenAI.RateLimitError>).headers?.get('retry-after'))).toBeGreaterThan(0);
  });

  it('sends anthropic-ratelimit-* headers and a rate_limit_error 429 with retry-after', async () => {
    const client = anthropicClient(vendor, 'sk-ant-small-1');
    const ok = await client.messages.create({ model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    expect(ok.response.headers.get('anthropic-ratelimit-requests-limit')).toBe('2');
    expect(ok.response.headers.get('anthropic-ratelimit-requests-remaining')).toBe('1');
    expect(ok.response.headers.get('anthropic-ratelimit-requests-reset')).toBe(new Date(nowMs + 30_000).toISOString().replace('.000Z', 'Z'));
    expect(ok.response.headers.get('anthropic-ratelimit-tokens-limit')).toBe('100000');
    expect(ok.response.headers.get('anthropic-ratelimit-tokens-reset')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(ok.response.headers.get('request-id')).toMatch(/^req_/);
    await client.messages.create({ model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
    const error = await rejectionOf(client.messages.create({ model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }));
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    const limited = error as InstanceType<typeof Anthropic.RateLimitError>;
    expect(limited.status).toBe(429);
    expect(limited.error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    expect(limited.headers?.get('retry-after')).toBe('30');
  });
});
