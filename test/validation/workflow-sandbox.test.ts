import { randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import { connectClient } from '../../lib/config/temporal-connection';
import { NativeConnection, Worker } from '@temporalio/worker';
import { z } from 'zod';
import { installQuietRuntime, testStack } from '../harness/env';
import { type PureModulesInput, runPureModules } from './pure-modules.workflow';

// PII masking and output validation may run in workflow code. This runs them
// in the real sandbox on the dev server: the bundle must build (no Node
// built-ins reachable) and the results must equal plain Node's.
describe('pure modules in the Temporal workflow sandbox', () => {
  it('mask, restore, stream-restore, validate and repair exactly as in Node', async () => {
    installQuietRuntime();
    const { temporalAddress } = testStack();
    const input: PureModulesInput = {
      nonce: 'sandbox1',
      messages: [
        { role: 'system', content: 'Tickets look like TKT-123.' },
        { role: 'user', content: 'I am jane@example.com (+44 20 7946 0958), card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00, TKT-991, ip 10.1.2.3' },
      ],
      answer: '{"label":"Subscribe to our weekly newsletter today","extra":1}',
      schema: z.toJSONSchema(z.object({ label: z.string().max(20) })) as PureModulesInput['schema'],
    };
    const taskQueue = `pure-${randomUUID()}`;
    const workerConnection = await NativeConnection.connect({ address: temporalAddress });
    const clientConnection = await connectClient({ address: temporalAddress });
    try {
      const worker = await Worker.create({
        connection: workerConnection,
        taskQueue,
        workflowsPath: require.resolve('./pure-modules.workflow'),
      });
      const fromSandbox = await worker.runUntil(
        new Client({ connection: clientConnection }).workflow.execute('pureModulesWorkflow', { taskQueue, workflowId: `pure-${randomUUID()}`, args: [input] }),
      );
      const fromNode = runPureModules(input);
      expect(fromSandbox).toEqual(fromNode);
      expect(fromNode.restored).toBe(input.messages.map((m) => m.content).join('\n'));
      expect(fromNode.streamed).toBe(fromNode.restored);
      expect(fromNode.masked.entities.map((e) => e.kind)).toEqual(['ticket', 'email', 'phone', 'card', 'iban', 'ticket', 'ip']);
      expect(fromNode.validation.ok).toBe(false);
    } finally {
      await clientConnection.close();
      await workerConnection.close();
    }
  });
});
