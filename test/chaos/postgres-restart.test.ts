/**
 * Chaos on the production topology: PostgreSQL under the Temporal server
 * stops and starts again while traffic flows through both gateways. A
 * request may be refused while Temporal cannot persist (a clean HTTP error),
 * but every call a gateway accepted reaches a terminal outcome, and answers
 * flow again once PostgreSQL is back.
 */
import { Client, Connection } from '@temporalio/client';
import OpenAI, { APIError } from 'openai';
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

describe('restarting PostgreSQL under Temporal', () => {
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

  it('ends every accepted call, refuses others cleanly, and answers again once PostgreSQL is back', async () => {
    const clients = cluster!.gatewayUrls.map((url) => new OpenAI({ baseURL: `${url}/v1`, apiKey: 'sb-demo-key-acme', maxRetries: 0, timeout: 90_000 }));
    const outcomes = { ok: 0, clean: [] as string[], unclean: [] as string[] };
    let running = true;
    const loop = async (lane: number) => {
      for (let i = 0; running; i += 1) {
        const startedAt = Date.now();
        const client = clients[(lane + i) % 2]!;
        try {
          const answer = await client.chat.completions.create({ model: 'chat-default', messages: [{ role: 'user', content: `chaos lane ${lane} call ${i}: say hello` }] });
          if (!answer.choices[0]?.message.content) throw new Error('answer without text');
          outcomes.ok += 1;
        } catch (error) {
          // A clean refusal is an HTTP error with a status and a message; a dropped connection or a hang is not.
          if (error instanceof APIError && error.status !== undefined && error.message) outcomes.clean.push(`${error.status} ${error.message}`);
          else outcomes.unclean.push(String(error));
        }
        await new Promise((r) => setTimeout(r, Math.max(0, startedAt + 2_500 - Date.now())));
      }
    };
    const lanes = [0, 1].map(loop);
    let backAfterMs = 0;
    try {
      await until('steady traffic (4 answers)', async () => (outcomes.ok >= 4 ? true : undefined), 60_000);
      const stoppedAt = Date.now();
      await cluster!.restartPostgres();
      const afterRestart = outcomes.ok;
      await until('2 answers after PostgreSQL came back', async () => (outcomes.ok >= afterRestart + 2 ? true : undefined), 120_000);
      backAfterMs = Date.now() - stoppedAt;
    } finally {
      running = false;
      await Promise.all(lanes);
    }
    const client = new Client({ connection: connection! });
    await until('no llmCall workflow still running', async () => {
      let count = 0;
      for await (const _ of client.workflow.list({ query: `WorkflowType = 'llmCall' AND ExecutionStatus = 'Running'` })) count += 1;
      return count === 0 ? true : undefined;
    }, 120_000);
    console.log(`answers ${outcomes.ok}, clean refusals ${outcomes.clean.length} (${[...new Set(outcomes.clean)].join('; ')}), answers flowing again ${backAfterMs} ms after the stop began`);
    expect(outcomes.unclean).toEqual([]);
  });
});
