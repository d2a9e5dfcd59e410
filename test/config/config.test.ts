import { resolve } from 'node:path';
import { isConfigError, loadConfigFile, parseConfig, resolveSecrets } from '../../lib/config/load';
import { applyPromptVariant } from '../../lib/routing/prompt-variants';

const base = {
  providers: { openai: { protocol: 'openai', baseUrl: 'http://127.0.0.1:1/v1', upstreams: [{ name: 'org-a', apiKeyEnv: 'KEY_A' }] } },
  routes: { chat: { entries: [{ provider: 'openai', model: 'gpt-4o-mini' }] } },
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
    [{ ...base, providers: { openai: { ...base.providers.openai, upstreams: [{ name: 'org-a', apiKeyEnv: 'sk-live-123' }] } } }, 'providers.openai.upstreams[0].apiKeyEnv: an environment variable name'],
    [{ ...base, retry: { maxAttempts: 0 } }, 'retry.maxAttempts'],
    [{ ...base, routes: { chat: { entries: [{ provider: 'openai', model: 'x', prompt: 'nope' }] } } }, 'routes.chat.entries[0].prompt: unknown prompt "nope"'],
  ])('names the bad field (%#)', (raw, expected) => {
    expect(errorOf(() => parseConfig(raw, 'switchboard.yaml'))).toContain(expected);
  });

  it('reads keys from the environment only, naming a missing variable and never printing a key', () => {
    const config = parseConfig(base);
    expect(resolveSecrets(config, { KEY_A: 'sk-secret-value' }).get('openai/org-a')).toBe('sk-secret-value');
    const message = errorOf(() => resolveSecrets(config, {}));
    expect(message).toContain('KEY_A (providers.openai.upstreams: org-a)');
  });
});

describe('applyPromptVariant', () => {
  const prompt = { default: { system: 'Default system.' }, providers: { anthropic: { system: 'Claude system.', instructions: 'Be brief.' } } };
  const messages = [{ role: 'user' as const, content: 'Hello' }];

  it('uses the provider variant when there is one', () => {
    expect(applyPromptVariant(messages, 'p', prompt, 'anthropic')).toEqual({
      variant: 'p:anthropic',
      messages: [{ role: 'system', content: 'Claude system.' }, { role: 'user', content: 'Hello\n\nBe brief.' }],
    });
  });

  it('falls back to the default variant, and leaves messages alone without a prompt', () => {
    expect(applyPromptVariant(messages, 'p', prompt, 'openai').variant).toBe('p:default');
    expect(applyPromptVariant(messages, undefined, undefined, 'openai')).toEqual({ variant: 'none', messages });
  });
});
