/**
 * `previous_response_id` across a real gateway restart: the gateway is a
 * process of its own (`services/gateway/main.ts`, as pods run), stopped with
 * SIGTERM and started again; the conversation goes on from Switchboard's own
 * record in NATS KV, through the official `openai` client.
 */
import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import { startSwitchboard, switchboardConfig, type SwitchboardUnderTest } from '../harness/switchboard';
import { gatewaySection, tenantKeys } from '../harness/gateway';
import { spawnGateway, type GatewayProcess } from '../harness/gateway-process';
import { writeConfigFile } from '../harness/worker-process';

describe('gateway: the Responses API across a gateway process restart', () => {
  let t: SwitchboardUnderTest;
  let configPath: string;
  let gateway: GatewayProcess | undefined;

  beforeAll(async () => {
    const section = gatewaySection();
    t = await startSwitchboard({ configOverrides: { gateway: section } });
    configPath = writeConfigFile(switchboardConfig(t.vendor.url, { gateway: section }));
  }, 90_000);
  afterAll(async () => {
    await gateway?.stop();
    await t?.close();
  });

  it('continues a conversation on a new gateway process, for its tenant only', async () => {
    const m = `restart-m${randomUUID().slice(0, 8)}`;
    const client = (url: string, apiKey: string = tenantKeys.acme) => new OpenAI({ apiKey, baseURL: `${url}/v1`, maxRetries: 0, timeout: 30_000 });

    gateway = await spawnGateway({ configPath, taskQueue: t.taskQueue });
    const firstPid = gateway.child.pid;
    const first = await client(gateway.url).responses.create({ model: 'chat-default', input: `My name is Ada ${m} [[say:nice to meet you Ada]]` });
    expect(first.output_text).toBe('nice to meet you Ada');
    await gateway.stop();

    gateway = await spawnGateway({ configPath, taskQueue: t.taskQueue });
    expect(gateway.child.pid).not.toBe(firstPid);
    const next = await client(gateway.url).responses.create({
      model: 'chat-default',
      previous_response_id: first.id,
      input: `What is my name? ${m}-second [[say:your name is Ada]]`,
    });
    expect(next.output_text).toBe('your name is Ada');
    expect(next.previous_response_id).toBe(first.id);
    const sent = t.vendor.requests({ contains: [`${m}-second`], includePrompt: true });
    expect(sent).toHaveLength(1);
    expect(sent[0]!.promptText).toContain(`My name is Ada ${m}`);
    expect(sent[0]!.promptText).toContain('nice to meet you Ada');

    const foreign = await client(gateway.url, tenantKeys.globex)
      .responses.create({ model: 'chat-default', previous_response_id: first.id, input: `steal ${m}-foreign` })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(foreign).toBeInstanceOf(OpenAI.NotFoundError);
    expect((foreign as InstanceType<typeof OpenAI.NotFoundError>).param).toBe('previous_response_id');
    expect(t.vendor.requests({ contains: [`${m}-foreign`] })).toHaveLength(0);
  }, 90_000);
});
