import { resolve } from 'node:path';
import { isConfigError, loadConfigFile, parseConfig, resolveSecrets } from '../../lib/config/load';
import { applyPromptVariant } from '../../lib/routing/prompt-variants';
import { configReferences } from '../../schemas/config';

const base = {
  providers: { openai: { protocol: 'openai', baseUrl: 'http://127.0.0.1:1/v1', upstreams: [{ name: 'org-a', apiKeyEnv: 'KEY_A' }] } },
  routes: { chat: { entries: [{ provider: 'openai', model: 'gpt-4o-mini' }] } },
};

const twoVendors = {
  providers: {
    ...base.providers,
    other: { ...base.providers.openai, baseUrl: 'http://127.0.0.1:2/v1' },
    claude: { ...base.providers.openai, protocol: 'anthropic' },
  },
};

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(isConfigError(error)).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('ships a local example that validates', () => {
    const config = loadConfigFile(resolve(__dirname, '../../config/switchboard.local.yaml'));
    expect(Object.keys(config.providers)).toEqual(['openai', 'anthropic']);
    expect(config.providers.openai!.upstreams.map((u) => u.name)).toEqual(['org-a', 'org-b', 'org-c']);
  });

  it.each([
    [{ ...base, routes: { chat: { entries: [{ provider: 'opneai', model: 'x' }] } } }, 'routes.chat.entries[0].provider: unknown provider "opneai"'],
    [{ ...base, routes: { chat: { entries: [] } } }, 'routes.chat.entries: a route needs at least one entry'],
    [{ ...base, providers: { openai: { ...base.providers.openai, protocol: 'gemini' } } }, 'providers.openai.protocol'],
    [
      { ...base, providers: { openai: { ...base.providers.openai, upstreams: [{ name: 'org-a', apiKeyEnv: 'sk-live-123' }] } } },
      'providers.openai.upstreams[0].apiKeyEnv: an environment variable name',
    ],
    [{ ...base, retry: { maxAttempts: 0 } }, 'retry.maxAttempts'],
    [{ ...base, routes: { chat: { entries: [{ provider: 'openai', model: 'x', prompt: 'nope' }] } } }, 'routes.chat.entries[0].prompt: unknown prompt "nope"'],
    // Embedding routes: one vector size across a fallback, and no Anthropic entry.
    [
      {
        ...twoVendors,
        routes: {
          embed: {
            entries: [
              { provider: 'openai', model: 'text-embedding-3-small', dimensions: 1536 },
              { provider: 'other', model: 'text-embedding-3-large', dimensions: 3072 },
            ],
          },
        },
      },
      'routes.embed.entries[1].dimensions: other/text-embedding-3-large answers 3072 dimensions, entries[0] (openai/text-embedding-3-small) 1536',
    ],
    [
      {
        ...twoVendors,
        routes: {
          embed: {
            embeddingDimensions: 256,
            entries: [
              { provider: 'openai', model: 'text-embedding-3-small' },
              { provider: 'other', model: 'e', dimensions: 1024 },
            ],
          },
        },
      },
      'routes.embed.entries[1].dimensions: 1024 differs from routes.embed.embeddingDimensions (256)',
    ],
    [
      {
        ...twoVendors,
        routes: {
          embed: {
            entries: [
              { provider: 'openai', model: 'text-embedding-3-small', dimensions: 1536 },
              { provider: 'other', model: 'e' },
            ],
          },
        },
      },
      "routes.embed.entries[1].dimensions: routes.embed falls back across providers (openai, other): say this entry's vector size",
    ],
    [
      {
        ...twoVendors,
        routes: {
          embed: {
            embeddingDimensions: 1024,
            entries: [
              { provider: 'openai', model: 'text-embedding-3-small' },
              { provider: 'claude', model: 'claude-haiku-4-5' },
            ],
          },
        },
      },
      'routes.embed.entries[1].provider: "claude" is an Anthropic provider, which has no embeddings API',
    ],
  ])('names the bad field (%#)', (raw, expected) => {
    expect(errorOf(() => parseConfig(raw, 'switchboard.yaml'))).toContain(expected);
  });

  it('accepts embedding routes whose entries promise one size, across providers', () => {
    const config = parseConfig(
      {
        ...twoVendors,
        routes: {
          declared: {
            entries: [
              { provider: 'openai', model: 'text-embedding-3-small', dimensions: 1536 },
              { provider: 'other', model: 'e', dimensions: 1536 },
            ],
          },
          shortened: {
            embeddingDimensions: 256,
            entries: [
              { provider: 'openai', model: 'text-embedding-3-small' },
              { provider: 'other', model: 'text-embedding-3-large', dimensions: 256 },
            ],
          },
        },
      },
      'switchboard.yaml',
    );
    expect(Object.keys(config.routes)).toEqual(['declared', 'shortened']);
  });

  it('reads keys from the environment only, naming a missing variable and never printing a key', () => {
    const config = parseConfig(base);
    expect(resolveSecrets(config, { KEY_A: 'sk-secret-value' }).get('openai/org-a')).toBe('sk-secret-value');
    const message = errorOf(() => resolveSecrets(config, {}));
    expect(message).toContain('KEY_A (providers.openai.upstreams: org-a)');
  });
});

describe('references between settings (configReferences: one line per setting that names a provider, prompt or route)', () => {
  const chain = (route: string, stepRoute?: string) => ({ route, steps: [{ id: 'a', prompt: 'Hi', ...(stepRoute ? { route: stepRoute } : {}) }] });
  // One row per line of configReferences, in its order.
  const rows: Array<[string, Record<string, unknown>, string]> = [
    [
      "a route entry's provider",
      { routes: { chat: { entries: [{ provider: 'opneai', model: 'x' }] } } },
      'routes.chat.entries[0].provider: unknown provider "opneai" (known: openai)',
    ],
    [
      "a route entry's prompt",
      { routes: { chat: { entries: [{ provider: 'openai', model: 'x', prompt: 'nope' }] } } },
      'routes.chat.entries[0].prompt: unknown prompt "nope" (known: none)',
    ],
    ["a chain's route and a step's", { chains: { c: chain('nope', 'gone') } }, 'chains.c.steps[0].route: unknown route "gone" (known: chat)'],
    ['the insights naming route', { insights: { naming: { enabled: true, route: 'nope' } } }, 'insights.naming.route: unknown route "nope" (known: chat)'],
    ["a drill's route prompts", { drills: { routePrompts: { nope: ['Hi'] } } }, 'drills.routePrompts.nope: unknown route "nope" (known: chat)'],
    ['an admission queue', { gateway: { admission: { queues: { nope: {} } } } }, 'gateway.admission.queues.nope: unknown route "nope" (known: chat)'],
  ];

  it('has a row for every reference', () => {
    expect(rows).toHaveLength(configReferences.length);
  });

  it.each(rows)('reports an unknown name in %s with its path and the known names', (_where, overrides, expected) => {
    expect(errorOf(() => parseConfig({ ...base, ...overrides }, 'switchboard.yaml'))).toContain(expected);
  });

  it("names a chain's own route too, and a required name left out", () => {
    expect(errorOf(() => parseConfig({ ...base, chains: { c: chain('nope') } }))).toContain('chains.c.route: unknown route "nope"');
    expect(errorOf(() => parseConfig({ ...base, insights: { naming: { enabled: true } } }))).toContain(
      'insights.naming.route: a route is required when naming is enabled',
    );
  });

  it('accepts names that exist, and names nothing when the setting is off', () => {
    expect(() =>
      parseConfig({
        ...base,
        chains: { c: chain('chat', 'chat') },
        drills: { routePrompts: { chat: ['Hi'] } },
        gateway: { admission: { queues: { chat: {} } } },
      }),
    ).not.toThrow();
    expect(() => parseConfig({ ...base, insights: { naming: { enabled: false, route: 'nope' } } })).not.toThrow();
  });
});

describe('applyPromptVariant', () => {
  const prompt = { default: { system: 'Default system.' }, providers: { anthropic: { system: 'Claude system.', instructions: 'Be brief.' } } };
  const messages = [{ role: 'user' as const, content: 'Hello' }];

  it('uses the provider variant when there is one', () => {
    expect(applyPromptVariant(messages, 'p', prompt, 'anthropic')).toEqual({
      variant: 'p:anthropic',
      messages: [
        { role: 'system', content: 'Claude system.' },
        { role: 'user', content: 'Hello\n\nBe brief.' },
      ],
    });
  });

  it('falls back to the default variant, and leaves messages alone without a prompt', () => {
    expect(applyPromptVariant(messages, 'p', prompt, 'openai').variant).toBe('p:default');
    expect(applyPromptVariant(messages, undefined, undefined, 'openai')).toEqual({ variant: 'none', messages });
  });
});
