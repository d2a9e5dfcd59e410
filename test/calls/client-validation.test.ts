import { Client, type Connection } from '@temporalio/client';
import { connectClient } from '../../lib/config/temporal-connection';
import { createSwitchboardClient, isSwitchboardRequestError } from '../../lib/client';
import { testStack } from '../harness/env';
import { testDataConverter } from '../harness/env';

describe('typed client validation', () => {
  let connection: Connection;
  let client: Client;
  beforeAll(async () => {
    connection = await connectClient({ address: testStack().temporalAddress });
    client = new Client({ connection, dataConverter: testDataConverter() });
  });
  afterAll(async () => {
    await connection?.close();
  });

  it.each([
    [{ route: '', messages: [{ role: 'user', content: 'hi' }] }, 'route'],
    [{ route: 'chat-default', messages: [] }, 'messages'],
    [{ route: 'chat-default', messages: [{ role: 'robot', content: 'hi' }] }, 'messages.0.role'],
    [{ route: 'chat-default', messages: [{ role: 'user', content: 'hi' }], params: { temperature: 7 } }, 'params.temperature'],
    [{ route: 'chat-default', messages: [{ role: 'user', content: 'hi' }], idempotencyKey: 'has spaces' }, 'idempotencyKey'],
  ])('rejects %j naming %s and starts nothing', async (request, field) => {
    const taskQueue = `never-polled-${Math.random()}`;
    const sb = createSwitchboardClient({ client, taskQueue });
    let thrown: unknown;
    try {
      await sb.start(request as never);
    } catch (error) {
      thrown = error;
    }
    expect(isSwitchboardRequestError(thrown)).toBe(true);
    expect((thrown as { field?: string }).field).toBe(field);
    const started = await client.workflow.count(`TaskQueue = "${taskQueue}"`);
    expect(started.count).toBe(0);
  });
});
