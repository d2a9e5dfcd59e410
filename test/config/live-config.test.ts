/**
 * The swappable config: two-phase reloads (a failing step rejects the whole
 * candidate and nothing changes), key files, and the file watch's judgement
 * of "changed" by content.
 */
import { mkdtempSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { watchConfigFile } from '../../lib/config/config-file-watch';
import { createLiveConfig, type LoadedConfig, type ReloadOutcome } from '../../lib/config/live-config';
import { ConfigError, loadConfigFile, parseConfig, resolveSecrets } from '../../lib/config/load';
import { createLogger } from '../../lib/log';
import type { SwitchboardConfigInput } from '../../schemas/config';

const log = createLogger({ level: 'silent' });
const doc = (upstreams: Array<Record<string, string>>, system = 'one'): SwitchboardConfigInput => ({
  providers: { p: { protocol: 'openai', baseUrl: 'http://127.0.0.1:1/v1', upstreams: upstreams as never } },
  prompts: { helper: { default: { system } } },
  routes: { r: { entries: [{ provider: 'p', model: 'm', prompt: 'helper' }] } },
});
const loaded = (input: SwitchboardConfigInput): LoadedConfig => {
  const config = parseConfig(input);
  return { config, secrets: resolveSecrets(config, { KEY_A: 'sk-a', KEY_B: 'sk-b' }) };
};

describe('createLiveConfig', () => {
  it('prepares every step, then commits them all, and bumps the generation', () => {
    const live = createLiveConfig(loaded(doc([{ name: 'a', apiKeyEnv: 'KEY_A' }])), log);
    const order: string[] = [];
    live.onReload(() => {
      order.push('prepare 1');
      return () => order.push('commit 1');
    });
    live.onReload(() => {
      order.push('prepare 2');
      return () => order.push('commit 2');
    });
    const outcome = live.reload(
      () =>
        loaded(
          doc(
            [
              { name: 'a', apiKeyEnv: 'KEY_A' },
              { name: 'b', apiKeyEnv: 'KEY_B' },
            ],
            'two',
          ),
        ),
      'test',
    );
    expect(outcome).toEqual({ result: 'applied', source: 'test', generation: 2 });
    expect(order).toEqual(['prepare 1', 'prepare 2', 'commit 1', 'commit 2']);
    expect(live.current().prompts.helper?.default.system).toBe('two');
    expect(live.secrets().get('p/b')).toBe('sk-b');
  });

  it('rejects a candidate when loading or any step fails: nothing commits, the old config serves', () => {
    const live = createLiveConfig(loaded(doc([{ name: 'a', apiKeyEnv: 'KEY_A' }])), log);
    const outcomes: ReloadOutcome[] = [];
    live.onOutcome((o) => outcomes.push(o));
    const commits: string[] = [];
    live.onReload(() => () => commits.push('first'));
    live.onReload((next) => {
      if (next.config.prompts.helper?.default.system === 'refused') throw new Error('the pool cannot be built');
    });
    live.reload(() => loaded(doc([{ name: 'a', apiKeyEnv: 'KEY_A' }], 'refused')), 'step');
    live.reload(() => loaded(doc([{ name: 'a', apiKeyEnv: 'KEY_NOPE' }])), 'keys');
    live.reload(() => {
      throw new ConfigError('file.json is invalid:\n  routes.r.entries[0].provider: unknown provider "q"');
    }, 'file.json');
    expect(outcomes.map((o) => [o.result, o.generation])).toEqual([
      ['rejected', 1],
      ['rejected', 1],
      ['rejected', 1],
    ]);
    expect(outcomes[0]?.error).toBe('the pool cannot be built');
    expect(outcomes[1]?.error).toContain('KEY_NOPE (providers.p.upstreams: a)');
    expect(outcomes[2]?.error).toContain('routes.r.entries[0].provider');
    expect(commits).toEqual([]);
    expect(live.current().prompts.helper?.default.system).toBe('one');
  });
});

describe('apiKeyFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-keys-'));

  it('reads the key from its file, without the trailing newline', () => {
    writeFileSync(join(dir, 'a'), 'sk-from-file\n');
    const config = parseConfig(doc([{ name: 'a', apiKeyFile: join(dir, 'a') }]));
    expect(resolveSecrets(config, {}).get('p/a')).toBe('sk-from-file');
  });

  it('needs exactly one of apiKeyEnv and apiKeyFile, naming the field', () => {
    expect(() => parseConfig(doc([{ name: 'a', apiKeyEnv: 'KEY_A', apiKeyFile: '/k' }]))).toThrow(
      'providers.p.upstreams[0].apiKeyEnv: set exactly one of apiKeyEnv and apiKeyFile',
    );
    expect(() => parseConfig(doc([{ name: 'a' }]))).toThrow('providers.p.upstreams[0].apiKeyEnv: set exactly one of apiKeyEnv and apiKeyFile');
  });

  it('names an unreadable or empty key file, never a key', () => {
    writeFileSync(join(dir, 'empty'), '\n');
    const config = parseConfig(
      doc([
        { name: 'a', apiKeyFile: join(dir, 'missing') },
        { name: 'b', apiKeyFile: join(dir, 'empty') },
      ]),
    );
    expect(() => resolveSecrets(config, {})).toThrow(`${join(dir, 'missing')} (providers.p.upstreams: a, apiKeyFile): cannot be read or is empty`);
    expect(() => resolveSecrets(config, {})).toThrow(`${join(dir, 'empty')} (providers.p.upstreams: b, apiKeyFile): cannot be read or is empty`);
  });
});

describe('watchConfigFile', () => {
  it('reloads when the file or a key file changes in content, not when it is only touched', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-watch-'));
    const path = join(dir, 'switchboard.json');
    const keyPath = join(dir, 'key');
    const write = (file: string, text: string) => {
      writeFileSync(`${file}.tmp`, text);
      renameSync(`${file}.tmp`, file);
    };
    write(keyPath, 'sk-one');
    write(path, JSON.stringify(doc([{ name: 'a', apiKeyFile: keyPath }])));
    const load = () => {
      const config = loadConfigFile(path);
      return { config, secrets: resolveSecrets(config, {}) };
    };
    const live = createLiveConfig(load(), log);
    const watch = watchConfigFile({ path, live, load, log, pollMs: 0 });
    try {
      expect(watch.check()).toBeUndefined();
      utimesSync(path, new Date(), new Date(Date.now() + 5_000));
      expect(watch.check()).toBeUndefined();
      write(keyPath, 'sk-two\n');
      expect(watch.check()).toMatchObject({ result: 'applied', generation: 2 });
      expect(live.secrets().get('p/a')).toBe('sk-two');
      write(path, '{ not json');
      expect(watch.check()).toMatchObject({ result: 'rejected', generation: 2 });
      // The same broken content is not retried (nor logged) again.
      expect(watch.check()).toBeUndefined();
      write(path, JSON.stringify(doc([{ name: 'a', apiKeyFile: keyPath }], 'fixed')));
      expect(watch.check()).toMatchObject({ result: 'applied', generation: 3 });
      expect(live.current().prompts.helper?.default.system).toBe('fixed');
    } finally {
      watch.close();
    }
  });
});
