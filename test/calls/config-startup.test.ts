import { randomUUID } from 'node:crypto';
import { switchboardConfig, testSecretsEnv } from '../harness/switchboard';
import { spawnWorker, writeConfigFile } from '../harness/worker-process';

describe('worker start-up with a bad configuration', () => {
  it('stops with the name of the misspelt field', async () => {
    const config = switchboardConfig('http://127.0.0.1:9');
    config.routes!['chat-default']!.entries[1]!.provider = 'antropic';
    const worker = spawnWorker({ configPath: writeConfigFile(config), taskQueue: `never-${randomUUID()}` });
    expect(await worker.exited).toBe(1);
    expect(worker.output()).toContain('routes.chat-default.entries[1].provider: unknown provider "antropic"');
  });

  it('stops naming a missing API key variable, without printing any key', async () => {
    const worker = spawnWorker({
      configPath: writeConfigFile(switchboardConfig('http://127.0.0.1:9')),
      taskQueue: `never-${randomUUID()}`,
      env: { SB_TEST_KEY_SOLO: '' },
    });
    expect(await worker.exited).toBe(1);
    expect(worker.output()).toContain('SB_TEST_KEY_SOLO (providers.solo.upstreams: org-s)');
    for (const key of Object.values(testSecretsEnv)) expect(worker.output()).not.toContain(key);
  });

  it('stops on a file that is not YAML or JSON', async () => {
    const worker = spawnWorker({ configPath: writeConfigFile('providers: [unclosed'), taskQueue: `never-${randomUUID()}` });
    expect(await worker.exited).toBe(1);
    expect(worker.output()).toMatch(/is not valid YAML or JSON/);
  });
});
