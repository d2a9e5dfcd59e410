import { resolve } from 'node:path';
import { expandEnvReferences, isUnsetReferenceError } from '../../lib/config/env-references';
import { isConfigError, loadConfigFile, parseConfig } from '../../lib/config/load';
import { baseUrlsOf, chooseStackConfig } from '../../services/local-stack/stack-config';

const localConfig = resolve(__dirname, '../../config/switchboard.local.yaml');

describe('${NAME} references in config values', () => {
  test.each([
    ['${A}', { A: 'x' }, 'x'],
    ['http://${HOST}:${PORT}/v1', { HOST: 'h', PORT: '1' }, 'http://h:1/v1'],
    ['${A:-fallback}', {}, 'fallback'],
    ['${A:-fallback}', { A: '' }, 'fallback'],
    ['${A:-fallback}', { A: 'set' }, 'set'],
    ['${A:-}', {}, ''],
    ['$${A}', { A: 'x' }, '${A}'],
    ['{{input.name}} and ${lower} stay', {}, '{{input.name}} and ${lower} stay'],
    ['no reference', { A: 'x' }, 'no reference'],
  ])('%s with %j → %s', (text, env, expected) => {
    expect(expandEnvReferences(text, env)).toBe(expected);
  });

  test('walks objects and arrays, leaves keys and non-strings alone', () => {
    const document = { providers: { p: { baseUrl: '${U}', upstreams: [{ name: '${U}', weight: 2 }] } }, '${U}': true };
    expect(expandEnvReferences(document, { U: 'u' })).toEqual({ providers: { p: { baseUrl: 'u', upstreams: [{ name: 'u', weight: 2 }] } }, '${U}': true });
  });

  test('a __proto__ key stays a plain key', () => {
    const document = JSON.parse('{"__proto__": {"polluted": "${U}"}}') as unknown;
    const expanded = expandEnvReferences(document, { U: 'u' }) as Record<string, unknown>;
    expect(Object.getPrototypeOf(expanded)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(expanded, '__proto__')?.value).toEqual({ polluted: 'u' });
  });

  test('an unset variable without a default names the field and the variable', () => {
    let caught: unknown;
    try {
      expandEnvReferences({ providers: { openai: { upstreams: [{ baseUrl: '${NOPE}/v1' }] } } }, {});
    } catch (error) {
      caught = error;
    }
    expect(isUnsetReferenceError(caught)).toBe(true);
    expect((caught as Error).message).toMatch(/^providers\.openai\.upstreams\[0\]\.baseUrl: \$\{NOPE\} is not set/);
  });

  test('parseConfig reports it as a ConfigError naming the field', () => {
    const raw = { providers: { openai: { protocol: 'openai', baseUrl: '${MISSING_URL}', upstreams: [{ name: 'a', apiKeyEnv: 'K' }] } }, routes: {} };
    expect(() => parseConfig(raw, 'my.yaml')).toThrow(/my\.yaml is invalid:\n {2}providers\.openai\.baseUrl: \$\{MISSING_URL\} is not set/);
    expect(parseConfig(raw, 'my.yaml', { MISSING_URL: 'http://127.0.0.1:1/v1' }).providers.openai?.baseUrl).toBe('http://127.0.0.1:1/v1');
  });

  test('the local config follows FAKE_VENDOR_URL and defaults to :8089', () => {
    expect(new Set(baseUrlsOf(loadConfigFile(localConfig)))).toEqual(new Set(['http://127.0.0.1:8089/v1', 'http://127.0.0.1:8089']));
    expect(new Set(baseUrlsOf(loadConfigFile(localConfig, { FAKE_VENDOR_URL: 'http://127.0.0.1:17401' })))).toEqual(
      new Set(['http://127.0.0.1:17401/v1', 'http://127.0.0.1:17401']),
    );
  });
});

describe('the local stack chooses its config and whether the fake vendor runs', () => {
  const fakeVendorUrl = 'http://127.0.0.1:17402';
  const ownConfig = resolve(__dirname, 'fixtures/own-upstreams.yaml');

  test.each([
    [localConfig, 'auto', true, true],
    [localConfig, 'on', true, true],
    [ownConfig, 'auto', false, false],
    [ownConfig, 'on', false, true],
    [ownConfig, 'off', false, false],
  ] as const)('%s, SB_FAKE_VENDOR=%s → uses it: %s, starts it: %s', (configPath, mode, uses, starts) => {
    const chosen = chooseStackConfig({ configPath, fakeVendorUrl, mode, env: { OWN_LLM_URL: 'http://127.0.0.1:9/v1' } });
    expect(chosen.usesFakeVendor).toBe(uses);
    expect(chosen.startFakeVendor).toBe(starts);
  });

  test('SB_FAKE_VENDOR=off with a config that points at it is refused', () => {
    expect(() => chooseStackConfig({ configPath: localConfig, fakeVendorUrl, mode: 'off', env: {} })).toThrow(
      /points at the fake vendor .* SB_FAKE_VENDOR=off/,
    );
  });

  test('a config that does not validate stops the choice with the field', () => {
    let caught: unknown;
    try {
      chooseStackConfig({ configPath: ownConfig, fakeVendorUrl, mode: 'auto', env: {} });
    } catch (error) {
      caught = error;
    }
    expect(isConfigError(caught)).toBe(true);
    expect((caught as Error).message).toMatch(/providers\.mine\.baseUrl: \$\{OWN_LLM_URL\} is not set/);
  });
});
