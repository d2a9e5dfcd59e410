/**
 * The answer hand-off (lib/call/answer-handoff.ts), in a gateway process with
 * its worker in-process, the way `make demo` runs one: an eagerly started
 * call's request takes the answer from the local activity that got it, and
 * it is the answer the workflow completes with — streamed or not, and even
 * when the process dies before Temporal has the completion: the re-run
 * reads the same answer back from the attempt journal and the vendor is
 * asked once. A call whose first attempt fails takes the workflow's result.
 */
import { randomUUID } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import type { temporal } from '@temporalio/proto';
import type { LlmCallWorkflow } from '../../contracts/workflow-types';
import { testStack } from '../harness/env';
import { gatewaySection, tenantKeys } from '../harness/gateway';
import { spawnGateway, type GatewayProcess } from '../harness/gateway-process';
import { eventually, startSwitchboard, switchboardConfig, type SwitchboardUnderTest } from '../harness/switchboard';
import { writeConfigFile } from '../harness/worker-process';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** A TCP forwarder to Temporal that can hold everything its clients send from then on (their requests never arrive). */
async function startHoldingForwarder(target: string) {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const state = { holding: false };
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(port, host);
    for (const socket of [client, upstream]) open.add(socket);
    client.on('data', (chunk) => state.holding || upstream.write(chunk));
    upstream.on('data', (chunk) => client.write(chunk));
    const closeBoth = () => {
      for (const socket of [client, upstream]) {
        open.delete(socket);
        socket.destroy();
      }
    };
    for (const socket of [client, upstream]) socket.on('error', closeBoth).on('close', closeBoth);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    hold: () => (state.holding = true),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** `sb_gateway_call_results_total` of a gateway, by `via`. */
async function resultsVia(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Object.fromEntries([...text.matchAll(/^sb_gateway_call_results_total\{via="(\w+)"\} (\d+)$/gm)].map((m) => [m[1]!, Number(m[2])]));
}

describe('the answer hand-off in a gateway with its worker in-process', () => {
  let t: SwitchboardUnderTest;
  let gateway: GatewayProcess | undefined;
  let openai: OpenAI;

  beforeAll(async () => {
    // No other worker polls: every call's first workflow task can only run in the gateway's in-process worker.
    t = await startSwitchboard({ withWorker: false });
    const configPath = writeConfigFile(switchboardConfig(t.vendor.url, { gateway: gatewaySection() }));
    gateway = await spawnGateway({ configPath, taskQueue: t.taskQueue, withWorker: true });
    openai = new OpenAI({ apiKey: tenantKeys.acme, baseURL: `${gateway.url}/v1`, maxRetries: 0, timeout: 30_000 });
  });
  afterAll(async () => {
    await gateway?.stop();
    await t?.close();
  });

  it('hands over the answer the workflow completes with, streamed or not; a failed first attempt takes the workflow result', async () => {
    const m = randomUUID().slice(0, 8);
    const { data: plain, response } = await openai.chat.completions
      .create({ model: 'solo-only', messages: [{ role: 'user', content: `Handed over ${m}` }] })
      .withResponse();
    const plainResult = await t.client.workflow.getHandle<LlmCallWorkflow>(response.headers.get('x-switchboard-call-id')!).result();
    expect(plain.choices[0]!.message.content).toBe(plainResult.text);
    expect(plain.usage).toMatchObject({ prompt_tokens: plainResult.usage.inputTokens, completion_tokens: plainResult.usage.outputTokens });
    expect(response.headers.get('x-switchboard-upstream')).toBe(plainResult.upstream);
    expect(await resultsVia(gateway!.url)).toEqual({ handoff: 1 });

    const { data: stream, response: streamed } = await openai.chat.completions
      .create({ model: 'solo-only', stream: true, messages: [{ role: 'user', content: `Streamed ${m}` }] })
      .withResponse();
    let text = '';
    let finishReason: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finishReason = chunk.choices[0]?.finish_reason ?? finishReason;
    }
    const streamResult = await t.client.workflow.getHandle<LlmCallWorkflow>(streamed.headers.get('x-switchboard-call-id')!).result();
    expect(text).toBe(streamResult.text);
    expect(finishReason).toBe('stop');
    expect(await resultsVia(gateway!.url)).toEqual({ handoff: 2 });

    // The first attempt fails: the workflow decides the retry, and the request waits for its result.
    t.vendor.setFault({ organisation: 'openai/org-s', promptContains: `Retried ${m}`, times: 1, fault: { kind: 'status', status: 503 } });
    const retried = await openai.chat.completions.create({ model: 'solo-only', messages: [{ role: 'user', content: `Retried ${m}` }] });
    expect(retried.choices[0]!.message.content!.length).toBeGreaterThan(0);
    expect(t.vendor.requests({ contains: [`Retried ${m}`] })).toHaveLength(2);
    expect(await resultsVia(gateway!.url)).toEqual({ handoff: 2, workflow: 1 });
  });

  it('an answer handed over before Temporal had the completion: the process dies, the re-run reads the same answer back', async () => {
    const m = `held-${randomUUID().slice(0, 8)}`;
    const key = `held-${randomUUID()}`;
    const forwarder = await startHoldingForwarder(testStack().temporalAddress);
    const configPath = writeConfigFile(switchboardConfig(t.vendor.url, { gateway: gatewaySection() }));
    const doomed = await spawnGateway({ configPath, taskQueue: t.taskQueue, withWorker: true, env: { TEMPORAL_ADDRESS: forwarder.address } });
    try {
      // The vendor holds the attempt while nothing more the gateway sends reaches Temporal: its task's completion never will.
      t.vendor.setFault({ organisation: 'openai/org-s', promptContains: m, times: 1, fault: { kind: 'latency', ms: 1_500 } });
      const asked = fetch(`${doomed.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tenantKeys.acme}`, 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify({ model: 'solo-only', messages: [{ role: 'user', content: `Held ${m}` }] }),
      });
      await eventually('the attempt to reach the vendor', () => (t.vendor.requests({ contains: [m] }).length > 0 ? true : undefined), 20_000);
      forwarder.hold();

      const response = await asked;
      expect(response.status).toBe(200);
      const callId = response.headers.get('x-switchboard-call-id')!;
      const answered = (await response.json()) as { choices: Array<{ message: { content: string } }> };
      expect(await resultsVia(doomed.url)).toEqual({ handoff: 1 });
      doomed.child.kill('SIGKILL');
      await doomed.stop();

      // The file's other gateway polls the same queue: its in-process worker runs the task again once it times out.
      const handle = t.client.workflow.getHandle<LlmCallWorkflow>(callId);
      const result = await handle.result();
      expect(result.text).toBe(answered.choices[0]!.message.content);
      expect(t.vendor.requests({ contains: [m] })).toHaveLength(1);
      const events: HistoryEvent[] = (await handle.fetchHistory()).events ?? [];
      expect(events.filter((e) => e.workflowTaskTimedOutEventAttributes)).not.toHaveLength(0);
      expect(events.filter((e) => e.workflowExecutionCompletedEventAttributes)).toHaveLength(1);
      const identities = events.flatMap((e) => (e.workflowTaskStartedEventAttributes ? [e.workflowTaskStartedEventAttributes.identity ?? ''] : []));
      expect(identities[0]).toContain(`${doomed.child.pid}@`);
      expect(identities.at(-1)).toContain(`${gateway!.child.pid}@`);
    } finally {
      doomed.child.kill('SIGKILL');
      await forwarder.close();
    }
  });
});
