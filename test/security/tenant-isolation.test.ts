/**
 * Tenants that cannot meet, on the real stack through the gateway: the
 * issue's attack (tenant `acme` with key `eu-inv-7` against tenant `acme-eu`
 * with key `inv-7`) makes two calls the vendor sees both of, and a keyed id
 * whose execution is another tenant's is refused before anything of it is
 * returned.
 */
import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import { LlmRequest } from '../../schemas/llm';
import { hashApiKey } from '../../services/gateway/tenants';
import { callWorkflowId, searchAttributes } from '../../contracts/names';
import { startGateway, type GatewayUnderTest } from '../harness/gateway';

const keys = { acme: 'sk-sb-test-iso-acme', acmeEu: 'sk-sb-test-iso-acme-eu' } as const;
const marker = (name: string) => `${name}-m${randomUUID().slice(0, 8)}`;
const ask = (text: string) => [{ role: 'user' as const, content: text }];

describe('tenant isolation of workflow ids', () => {
  let t: GatewayUnderTest;

  beforeAll(async () => {
    t = await startGateway({
      gateway: {
        tenants: [
          { id: 'acme', keys: [{ name: 'acme-1', sha256: hashApiKey(keys.acme) }] },
          { id: 'acme-eu', keys: [{ name: 'acme-eu-1', sha256: hashApiKey(keys.acmeEu) }] },
        ],
      },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('gives acme + eu-inv-7 and acme-eu + inv-7 a call each; the vendor sees both prompts', async () => {
    const run = randomUUID().slice(0, 6);
    const secret = marker('confidential');
    const planted = marker('planted');
    // The victim first: its confidential answer must not reach the attacker.
    const victim = await t
      .openai(keys.acmeEu)
      .chat.completions.create(
        { model: 'chat-default', messages: ask(`Quarterly numbers ${secret} [[say:victim answer ${secret}]]`) },
        { headers: { 'Idempotency-Key': `inv-7-${run}` } },
      )
      .withResponse();
    const attacker = await t
      .openai(keys.acme)
      .chat.completions.create(
        { model: 'chat-default', messages: ask(`Anything ${planted} [[say:attacker answer]]`) },
        { headers: { 'Idempotency-Key': `eu-inv-7-${run}` } },
      )
      .withResponse();

    expect(victim.data.choices[0]!.message.content).toBe(`victim answer ${secret}`);
    expect(attacker.data.choices[0]!.message.content).toBe('attacker answer');
    const victimId = victim.response.headers.get('x-switchboard-call-id');
    const attackerId = attacker.response.headers.get('x-switchboard-call-id');
    expect(attackerId).not.toBe(victimId);
    expect(t.vendor.requests({ contains: [secret] })).toHaveLength(1);
    expect(t.vendor.requests({ contains: [planted] })).toHaveLength(1);
    const tenantOf = async (id: string | null) => (await t.client.workflow.getHandle(id!).describe()).typedSearchAttributes.get(searchAttributes.tenant);
    expect(await tenantOf(victimId)).toBe('acme-eu');
    expect(await tenantOf(attackerId)).toBe('acme');
  });

  it('refuses (409) a keyed id whose execution is another tenant’s, and returns nothing of it', async () => {
    const key = `forged-${randomUUID().slice(0, 8)}`;
    const foreign = marker('foreign');
    const mine = marker('mine');
    // An execution at the id acme's key maps to, but of tenant acme-eu (as an older id scheme or a forged start could leave).
    const workflowId = callWorkflowId('acme', key, randomUUID);
    const planted = await t.client.workflow.start('llmCall', {
      taskQueue: t.taskQueue,
      workflowId,
      args: [
        {
          callId: workflowId,
          request: LlmRequest.parse({ route: 'chat-default', tenant: 'acme-eu', messages: ask(`Planted ${foreign} [[say:planted ${foreign}]]`) }),
        },
      ],
      typedSearchAttributes: [{ key: searchAttributes.tenant, value: 'acme-eu' }],
    });
    await planted.result();

    const refused = await t
      .openai(keys.acme)
      .chat.completions.create({ model: 'chat-default', messages: ask(`Mine ${mine}`) }, { headers: { 'Idempotency-Key': key } })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(refused).toBeInstanceOf(OpenAI.APIError);
    const apiError = refused as InstanceType<typeof OpenAI.APIError>;
    expect(apiError.status).toBe(409);
    expect(apiError.error).toEqual(expect.objectContaining({ code: 'idempotency_key_conflict', param: 'Idempotency-Key' }));
    expect(JSON.stringify(apiError.error)).not.toContain(foreign);
    expect(t.vendor.requests({ contains: [mine] })).toHaveLength(0);
  });
});
