/**
 * Shared set-up for the fake vendor's tests: a small config with one
 * organisation per concern, and official SDK clients with retries off.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { z } from 'zod';
import type { FakeVendorConfigInput } from '../../schemas/fake-vendor';
import type { FakeVendor } from '../../services/fake-vendor';

export const KEYS = {
  orgA: 'sk-fake-org-a-1',
  orgA2: 'sk-fake-org-a-2',
  orgB: 'sk-fake-org-b-1',
  limited: 'sk-fake-limited-1',
  anthropic: 'sk-ant-fake-org-a-1',
  anthropicLimited: 'sk-ant-fake-limited-1',
  slow: 'sk-fake-slow-1',
} as const;

export function testConfig(overrides: Partial<FakeVendorConfigInput> = {}): FakeVendorConfigInput {
  return {
    seed: 7,
    organisations: [
      {
        id: 'openai/org-a',
        protocol: 'openai',
        keys: [
          { name: 'org-a-1', key: KEYS.orgA },
          { name: 'org-a-2', key: KEYS.orgA2 },
        ],
      },
      { id: 'openai/org-b', protocol: 'openai', keys: [{ name: 'org-b-1', key: KEYS.orgB }], models: ['gpt-4o-mini', { id: 'gpt-tiny', contextTokens: 20 }] },
      { id: 'openai/limited', protocol: 'openai', rpm: 3, tpm: 1_000_000, keys: [{ name: 'limited-1', key: KEYS.limited }] },
      { id: 'openai/slow', protocol: 'openai', ttftMs: 100, tokensPerSecond: 100, keys: [{ name: 'slow-1', key: KEYS.slow }] },
      { id: 'anthropic/org-a', protocol: 'anthropic', keys: [{ name: 'anthropic-org-a-1', key: KEYS.anthropic }] },
      { id: 'anthropic/limited', protocol: 'anthropic', rpm: 2, keys: [{ name: 'anthropic-limited-1', key: KEYS.anthropicLimited }] },
    ],
    ...overrides,
  };
}

/**
 * Jest runs tests in their own realm, so the DOMException that Node's fetch
 * rejects with on abort is no `Error` there; the SDKs then lose its name and
 * report a timeout as a plain connection error. Re-throwing it as a local
 * Error named `AbortError` lets the SDKs classify timeouts exactly as they do
 * in production (`APIConnectionTimeoutError`).
 */
export const realmSafeFetch: typeof fetch = async (input, init) => {
  try {
    return await fetch(input, init);
  } catch (error) {
    if (typeof error === 'object' && error !== null && 'name' in error && error.name === 'AbortError' && !(error instanceof Error)) {
      const local = new Error('This operation was aborted');
      local.name = 'AbortError';
      throw local;
    }
    throw error;
  }
};

export function openAiClient(vendor: FakeVendor, apiKey: string = KEYS.orgA, timeout = 5_000): OpenAI {
  // logLevel off: the SDKs log malformed chunks to the console, which the fault tests provoke on purpose.
  return new OpenAI({ apiKey, baseURL: `${vendor.url}/v1`, maxRetries: 0, timeout, fetch: realmSafeFetch, logLevel: 'off' });
}

export function anthropicClient(vendor: FakeVendor, apiKey: string = KEYS.anthropic, timeout = 5_000): Anthropic {
  return new Anthropic({ apiKey, baseURL: vendor.url, maxRetries: 0, timeout, fetch: realmSafeFetch, logLevel: 'off' });
}

/** Resolves to the error a promise rejects with; fails the test if it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** Collects every item of an async iterable, and the error that ended it, if any. */
export async function drain<T>(iterable: AsyncIterable<T>): Promise<{ items: T[]; error: unknown }> {
  const items: T[] = [];
  try {
    for await (const item of iterable) items.push(item);
    return { items, error: undefined };
  } catch (error) {
    return { items, error };
  }
}

/** Polls `condition` until it holds or `deadlineMs` passes. */
export async function waitFor(condition: () => boolean, deadlineMs = 2_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met before the deadline');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A JSON schema as tests write it: assignable to both SDKs' tool parameter types. */
export interface ObjectSchema {
  type: 'object';
  properties: Record<string, unknown>;
  required?: string[];
  [keyword: string]: unknown;
}

/** Validates a value against a JSON schema with zod's own converter, independent of the generator under test. */
export function matchesSchema(schema: object, value: unknown): boolean {
  // zod's JSONSchema type is stricter than a plain object literal; the converter checks the shape at run time.
  return z.fromJSONSchema(schema as z.core.JSONSchema.JSONSchema).safeParse(value).success;
}
