/**
 * An agent chain under chaos: the built-in site planner started through a
 * gateway (`POST /v1/chains`), its vendor requests slowed by a latency rule on
 * its own marker so that it is still running when a part is killed, read back
 * through whichever gateway answers (`GET /v1/chains/:id`), and checked from
 * outside once it ended: completed, every call it made a completed llmCall
 * workflow in Temporal, every call seen by the fake vendor.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { ChainRunView } from '../../lib/chains/client-facing';
import { waitFor } from '../../lib/ports';
import type { VendorAdmin } from '../../services/demo/vendor-admin';
import { TENANT_KEY } from './chaos-traffic';

const PAGES = 4;
/** Calls of one run without repairs: the site map, a wireframe per page, the launch checklist. */
const CHAIN_CALLS = PAGES + 2;
/** Each vendor request of the chain waits this long: its three stages take seconds, so a kill finds it running. */
const STEP_LATENCY_MS = 1_500;
/** The upstreams of the `site-planner` route (gpt-4o on two OpenAI organisations, the Anthropic fallback). */
const ORGANISATIONS = ['openai/org-a', 'openai/org-b', 'anthropic/org-a'];

const headers = { authorization: `Bearer ${TENANT_KEY}`, 'content-type': 'application/json' };

/** The chain as the first gateway that answers describes it; undefined while none does (e.g. PostgreSQL away). */
async function describeChain(gatewayUrls: string[], id: string): Promise<ChainRunView | undefined> {
  for (const url of gatewayUrls) {
    try {
      const response = await fetch(`${url}/v1/chains/${encodeURIComponent(id)}`, { headers, signal: AbortSignal.timeout(10_000) });
      if (response.ok) return (await response.json()) as ChainRunView;
    } catch {
      // That gateway is down or slow: ask the next.
    }
  }
  return undefined;
}

export interface ChainUnderChaos {
  id: string;
  /** Resolves once the site map is done and the wireframes are being written (the chain is mid-way). */
  midway(): Promise<void>;
  /** Waits for the chain to end, then checks it completed and every call it made did; returns a line for the log. */
  finished(temporal: Client, timeoutMs: number): Promise<string>;
}

export async function startChainUnderChaos(o: { gatewayUrls: string[]; via: number; vendor: VendorAdmin }): Promise<ChainUnderChaos> {
  const marker = `chaos-chain-${randomUUID().slice(0, 8)}`;
  await o.vendor.setFaults(ORGANISATIONS.map((organisation) => ({ organisation, promptContains: marker, fault: { kind: 'latency', ms: STEP_LATENCY_MS } })));
  const input = { business: `Tea shop ${marker}`, audience: 'tea lovers', goals: [`sell tea ${marker}`], pageCount: PAGES };
  const response = await fetch(`${o.gatewayUrls[o.via]}/v1/chains`, { method: 'POST', headers, body: JSON.stringify({ chain: 'site-planner', input }) });
  if (response.status !== 202) throw new Error(`POST /v1/chains answered ${response.status}: ${await response.text()}`);
  const { id } = (await response.json()) as { id: string };
  const startedAt = Date.now();

  return {
    id,
    midway: () =>
      waitFor(
        `chain ${id} past its site map`,
        async () => {
          const view = await describeChain(o.gatewayUrls, id);
          if (view && view.status !== 'running') throw new Error(`the chain ended (${view.status}) before the fault`);
          return view?.progress?.steps.siteMap?.status === 'completed';
        },
        120_000,
        200,
      ),
    async finished(temporal, timeoutMs) {
      let view: ChainRunView | undefined;
      await waitFor(
        `chain ${id} to end`,
        async () => {
          view = await describeChain(o.gatewayUrls, id);
          return view !== undefined && view.status !== 'running';
        },
        timeoutMs,
        500,
      );
      const endedAt = Date.now();
      expect(view).toEqual(expect.objectContaining({ status: 'completed' }));
      const calls = view!.result!.calls;
      // One first call per step and item (repairs would add calls for the same step and item).
      expect(new Set(calls.map((c) => `${c.step}#${c.index ?? ''}`)).size).toBe(CHAIN_CALLS);
      const statuses = await Promise.all(calls.map(async (c) => (await temporal.workflow.getHandle(c.workflowId).describe()).status.name));
      expect(statuses.every((s) => s === 'COMPLETED')).toBe(true);
      const vendorRequests = await o.vendor.requests(marker);
      expect(vendorRequests.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(calls.length);
      return `chain ${id}: completed ${endedAt - startedAt} ms after it started, ${calls.length} calls all completed in Temporal, ${vendorRequests.length} vendor requests`;
    },
  };
}
