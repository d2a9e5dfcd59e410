/**
 * Chaos on the production topology: under steady traffic through both
 * gateways (streaming included), SIGKILL one worker, then one gateway.
 * Every call a gateway accepted reaches a terminal outcome (no llmCall
 * workflow left running), clients of the surviving gateway see no error, and
 * the only errors are those of requests in flight on the killed gateway.
 */
import { Client, Connection } from '@temporalio/client';
import OpenAI from 'openai';
import { clusterPorts } from '../../services/cluster-stack/settings';
import { type ChaosCluster, clusterUp } from './cluster-stack';

// Files run one after another (maxWorkers 1), so they share the port base.
const PORT_BASE = 17_500;

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('losing a worker, then a gateway', () => {
  let cluster: ChaosCluster | undefined;
  let connection: Connection | undefined;

  beforeAll(async () => {
    cluster = await clusterUp(PORT_BASE);
    connection = await Connection.connect({ address: `127.0.0.1:${clusterPorts(PORT_BASE).temporalFrontend}` });
  }, 240_000);

  afterAll(async () => {
    await connection?.close();
    await cluster?.down();
  });

  it('finishes every accepted call, and only requests in flight on the killed gateway fail', async () => {
    const clients = cluster!.gatewayUrls.map((url) => new OpenAI({ baseURL: `${url}/v1`, apiKey: 'sb-demo-key-acme', maxRetries: 0, timeout: 60_000 }));
    const alive = [true, true];
    const outcomes = { ok: 0, failedOnKilled: [] as string[], failedElsewhere: [] as string[] };
    let running = true;
    // Paced under the demo key's anonymous budget (60 requests/min, shared by both gateways).
    const loop = async (lane: number) => {
      for (let i = 0; running; i += 1) {
        const startedAt = Date.now();
        // A load balancer stops sending to a gateway that is gone; requests already sent to it are in flight.
        const gateway = alive[(lane + i) % 2] ? (lane + i) % 2 : alive.indexOf(true);
        const content = `chaos lane ${lane} call ${i}: say hello`;
        try {
          if (i % 3 === 0) {
            const stream = await clients[gateway]!.chat.completions.create({ model: 'chat-default', messages: [{ role: 'user', content }], stream: true });
            let text = '';
            for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
            if (text.length === 0) throw new Error('stream ended without text');
          } else {
            const answer = await clients[gateway]!.chat.completions.create({ model: 'chat-default', messages: [{ role: 'user', content }] });
            if (!answer.choices[0]?.message.content) throw new Error('answer without text');
          }
          outcomes.ok += 1;
        } catch (error) {
          const line = `gateway-${gateway + 1}: ${error instanceof Error ? error.message : String(error)}`;
          (alive[gateway] ? outcomes.failedElsewhere : outcomes.failedOnKilled).push(line);
        }
        await new Promise((r) => setTimeout(r, Math.max(0, startedAt + 2_500 - Date.now())));
      }
    };
    const lanes = [0, 1].map(loop);
    try {
      await until('steady traffic (4 answers)', async () => (outcomes.ok >= 4 ? true : undefined), 60_000);
      cluster!.kill('worker-1');
      const afterWorker = outcomes.ok;
      await until('4 more answers after worker-1 died', async () => (outcomes.ok >= afterWorker + 4 ? true : undefined), 90_000);
      alive[0] = false;
      cluster!.kill('gateway-1');
      const afterGateway = outcomes.ok;
      await until('4 more answers after gateway-1 died', async () => (outcomes.ok >= afterGateway + 4 ? true : undefined), 90_000);
    } finally {
      running = false;
      await Promise.all(lanes);
    }
    const client = new Client({ connection: connection! });
    const stillRunning = await until('no llmCall workflow still running', async () => {
      let count = 0;
      for await (const _ of client.workflow.list({ query: `WorkflowType = 'llmCall' AND ExecutionStatus = 'Running'` })) count += 1;
      return count === 0 ? count : undefined;
    }, 120_000);
    let finished = 0;
    for await (const _ of client.workflow.list({ query: `WorkflowType = 'llmCall'` })) finished += 1;
    console.log(`answers ${outcomes.ok}, errors on the killed gateway ${outcomes.failedOnKilled.length} (${outcomes.failedOnKilled.join('; ')}), llmCall workflows ${finished}, still running ${stillRunning}`);
    expect(outcomes.failedElsewhere).toEqual([]);
    // Only what was in flight on gateway-1 when it died: at most one request per lane.
    expect(outcomes.failedOnKilled.length).toBeLessThanOrEqual(2);
    expect(finished).toBeGreaterThanOrEqual(outcomes.ok);
  });
});
