/**
 * The agentChain workflow on the real stack: the site planner end to end,
 * schema repair, a step that cannot be repaired failing the chain by name,
 * and cancellation that leaves no call running.
 */
import { randomUUID } from 'node:crypto';
import { describeChainRun } from '../../lib/chains/client-facing';
import { sitePlannerChain, SiteMap, Wireframe } from '../../lib/chains/site-planner';
import { createChainRegistry } from '../../lib/chains/registry';
import { createSwitchboardClient, isSwitchboardChainError, isSwitchboardRequestError, type SwitchboardChainError } from '../../lib/client';
import type { ChainDefinitionInput } from '../../schemas/chain';
import { chainCallWorkflowId } from '../../contracts/names';
import { eventually, startSwitchboard, switchboardConfig, type SwitchboardUnderTest } from '../harness/switchboard';

const routes = { ...switchboardConfig('http://127.0.0.1:1').routes, 'anthropic-only': { entries: [{ provider: 'anthropic', model: 'claude-haiku-4-5' }] } };

function interview(marker: string, pageCount: number) {
  return { business: `Tea shop ${marker}`, audience: 'tea lovers', goals: [`sell tea ${marker}`], pageCount };
}

/** One structured step on anthropic, so the fake vendor's invalid_json fault gives parseable JSON that misses a property. */
function summaryChain(marker: string, repairAttempts: number): ChainDefinitionInput {
  return {
    name: 'summary',
    route: 'anthropic-only',
    steps: [
      {
        id: 'brief',
        prompt: `Write a brief about {{input.topic}} ${marker}`,
        output: {
          name: 'brief',
          schema: {
            type: 'object',
            properties: { title: { type: 'string' }, points: { type: 'array', items: { type: 'string' } } },
            required: ['title', 'points'],
          },
        },
        repairAttempts,
      },
    ],
  };
}

describe('agentChain', () => {
  let t: SwitchboardUnderTest;
  beforeAll(async () => {
    t = await startSwitchboard({ configOverrides: { routes } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('plans a site: site map, one wireframe per page, checklist, assembled; each call once, with derived ids', async () => {
    const m = `plan-${randomUUID().slice(0, 8)}`;
    const handle = await t.sb.startChain({ chain: sitePlannerChain({ route: 'chat-default', maxConcurrency: 3 }), input: interview(m, 5) });
    const result = await handle.result();

    const output = result.output as { siteName: string; siteMap: unknown; pages: unknown[]; launchChecklist: string[] };
    const siteMap = SiteMap.parse(output.siteMap);
    expect(siteMap.pages).toHaveLength(5);
    expect(output.pages.map((p) => Wireframe.parse(p))).toHaveLength(5);
    expect(output.siteName).toBe(siteMap.siteName);
    expect(output.launchChecklist.length).toBeGreaterThanOrEqual(3);

    expect(result.calls.map((c) => c.workflowId).sort()).toEqual(
      [
        chainCallWorkflowId(handle.chainId, 'siteMap', undefined, 0),
        ...[0, 1, 2, 3, 4].map((i) => chainCallWorkflowId(handle.chainId, 'wireframes', i, 0)),
        chainCallWorkflowId(handle.chainId, 'launchChecklist', undefined, 0),
      ].sort(),
    );
    // The outside world: 7 calls reached the vendor, once each; every wireframe prompt names its page.
    expect(t.vendor.requests({ contains: [m] })).toHaveLength(7);
    for (const page of siteMap.pages) expect(t.vendor.requests({ contains: [m, `(/${page.slug})`] }).length).toBeGreaterThanOrEqual(1);
    expect(t.vendor.requests({ contains: [siteMap.siteName, 'before launch'] })).toHaveLength(1);

    const view = await describeChainRun(t.client, handle.chainId);
    expect(view.status).toBe('completed');
    const progress = await handle.progress();
    expect(progress).toEqual(expect.objectContaining({ status: 'completed', callsCompleted: 7, callsRunning: 0 }));
    expect(progress.steps.wireframes).toEqual(expect.objectContaining({ status: 'completed', total: 5, completed: 5 }));
  });

  it('rejects bad input and unknown chains before anything starts, naming the field', async () => {
    const sb = createSwitchboardClient({
      client: t.client,
      taskQueue: t.taskQueue,
      chains: createChainRegistry({ inCode: [sitePlannerChain({ route: 'chat-default' })] }),
    });
    const bad = await sb.startChain({ chain: 'site-planner', input: { ...interview('bad', 1), pageCount: 0 } }).catch((e: unknown) => e);
    expect(isSwitchboardRequestError(bad) && bad.field).toBe('input.pageCount');
    const unknown = await sb.startChain({ chain: 'nope', input: {} }).catch((e: unknown) => e);
    expect(isSwitchboardRequestError(unknown) && unknown.message).toBe('unknown chain "nope" (known: site-planner)');
    expect(t.vendor.requests({ contains: ['bad'] })).toHaveLength(0);
  });

  it('repairs a step whose output fails its schema: a follow-up call carries the validation errors', async () => {
    const m = `repair-${randomUUID().slice(0, 8)}`;
    t.vendor.setFault({ organisation: 'anthropic/org-a', promptContains: m, times: 1, fault: { kind: 'invalid_json' } });
    const handle = await t.sb.startChain({ chain: summaryChain(m, 1), input: { topic: 'oolong' } });
    const result = await handle.result();

    expect(result.steps.brief).toEqual({ title: expect.any(String), points: expect.any(Array) });
    // The llmCall child repairs it (its own validation); the chain's repair round is the second line, for outputs a child let through.
    expect(result.calls.map((c) => c.step)).toEqual(expect.arrayContaining(['brief']));
    const sent = t.vendor.requests({ contains: [m], includePrompt: true });
    expect(sent).toHaveLength(2);
    expect(sent[1]!.promptText).toContain('Your JSON did not match the required schema at $');
    expect(sent[1]!.promptText).toContain('Reply with the corrected JSON only');
  });

  it('fails the chain naming the step when the repairs do not fix the output', async () => {
    const m = `broken-${randomUUID().slice(0, 8)}`;
    t.vendor.setFault({ organisation: 'anthropic/org-a', promptContains: m, fault: { kind: 'invalid_json' } });
    const handle = await t.sb.startChain({ chain: summaryChain(m, 1), input: { topic: 'puerh' } });
    const error = await handle.result().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isSwitchboardChainError(error)).toBe(true);
    const chainError = error as SwitchboardChainError;
    expect(chainError.step).toBe('brief');
    expect(chainError.type).toBe('SbChainStepFailed');
    expect(chainError.message).toMatch(/^chain "summary" step "brief" failed: .*(schema|validation)/);
    // The first answer and its repairs reached the vendor; nothing after the chain failed.
    expect(t.vendor.requests({ contains: [m] }).length).toBeGreaterThanOrEqual(2);
    const view = await describeChainRun(t.client, handle.chainId);
    expect(view).toEqual(expect.objectContaining({ status: 'failed', error: expect.objectContaining({ step: 'brief', type: 'SbChainStepFailed' }) }));
  });

  it('cancels cleanly: the run ends cancelled, no call keeps running, no new call starts', async () => {
    const m = `cancel-${randomUUID().slice(0, 8)}`;
    // Wireframes are slow, so the cancel lands in the middle of the fan-out.
    t.vendor.setFault({ organisation: 'openai/org-a', promptContains: `${m} (audience`, fault: { kind: 'latency', ms: 1_500 } });
    t.vendor.setFault({ organisation: 'openai/org-b', promptContains: `${m} (audience`, fault: { kind: 'latency', ms: 1_500 } });
    t.vendor.setFault({ organisation: 'openai/org-c', promptContains: `${m} (audience`, fault: { kind: 'latency', ms: 1_500 } });
    const handle = await t.sb.startChain({ chain: sitePlannerChain({ route: 'chat-default', maxConcurrency: 2 }), input: interview(m, 6) });
    await eventually('two wireframes to be at the vendor', () => (t.vendor.requests({ contains: [`${m} (audience`] }).length === 2 ? true : undefined), 20_000);
    await handle.cancel();

    await expect(handle.result()).rejects.toThrow();
    expect((await handle.handle.describe()).status.name).toBe('CANCELLED');
    const sentAtCancel = t.vendor.requests({ contains: [m] }).length;
    const query = `WorkflowId STARTS_WITH "${handle.chainId}/" AND ExecutionStatus = "Running"`;
    await eventually('no child call to be running', async () => ((await t.client.workflow.count(query)).count === 0 ? true : undefined));
    // The wireframes in flight were cancelled with the chain, not left to finish.
    const cancelled = await eventually('the visibility store to show the cancelled calls', async () => {
      const counted = await t.client.workflow.count(`WorkflowId STARTS_WITH "${handle.chainId}/wireframes" AND ExecutionStatus = "Canceled"`);
      return counted.count > 0 ? counted : undefined;
    });
    expect(cancelled.count).toBe(2);
    expect(t.vendor.requests({ contains: [m] }).length).toBe(sentAtCancel);
    // The site map and the two wireframes in flight; the other four never started.
    expect(sentAtCancel).toBe(3);
  });
});
