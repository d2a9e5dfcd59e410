/**
 * Part 5, stack: faults in our own stack instead of a vendor's, as an
 * operator would cause them, under steady open-loop traffic through the
 * gateway with the official `openai` client (a quarter of the calls
 * streamed, a third with a `user`, so admission's KV is in the path):
 *
 * - nats-down: nats-server stopped for `natsOutageMs`, started again on its
 *   JetStream store. Every answered call's interaction record and CallEvents
 *   must be in JetStream afterwards (the outbox), each once.
 * - temporal-down: the Temporal dev server stopped for `temporalOutageMs`,
 *   started again on its SQLite file. Refusals must be 503s with retry-after
 *   naming the dependency, and every call must end (an answer for its client,
 *   no llmCall workflow left running).
 * - gateway-killed: two gateways; one SIGKILLed while a user's requests hold
 *   every in-flight slot of that user on it. Errors should be its in-flight
 *   requests only; the user is admitted by the other gateway once the dead
 *   one's leases lapse (measured).
 * - overload (stack-overload.ts).
 *
 * One worker process and two gateways without in-process workers, on a task
 * queue of their own.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { NatsConnection } from 'nats';
import { benchDataConverter } from '../payload-keys';
import { callGateway, checkRecords, mixedCall, stackGateway, tally, type CallTally, type RecordCheck, type StackCall, type StackGateway } from './stack-calls';
import { INSPECT_ARGS } from './inspector';
import { measureOverload, type OverloadResult, type OverloadSizes } from './stack-overload';
import { runOpenLoop } from './sdk-load';
import { stopService } from './services';
import { TENANT_KEY, type BenchStack } from './stack';
import type { VendorAdmin } from './vendor-admin';

export interface StackSizes {
  ratePerSecond: number;
  beforeMs: number;
  afterMs: number;
  natsOutageMs: number;
  temporalOutageMs: number;
  /** How long the records of the NATS outage may take to reach JetStream once it is back. */
  recordWaitMs: number;
  /** How long llmCall workflows may take to finish after the Temporal outage's traffic. */
  settleMs: number;
  /** The killed gateway's held requests take this long at the vendor, so they are in flight at the kill. */
  heldRequestMs: number;
  overload: OverloadSizes;
}

export interface OutageResult {
  id: 'nats-down' | 'temporal-down';
  /** From the process's exit to the restarted one being healthy. */
  outageMs: number;
  calls: CallTally;
  /** Calls sent while the dependency was away. */
  during: CallTally;
  /** 503s whose code names the dependency (`nats_unavailable`, `temporal_unavailable`). */
  refusalsNamingDependency: number;
  /** 503s `overloaded`: load shedding, once nothing has finished for a share of the deadline. */
  refusalsOverloaded: number;
  refusals503: number;
  /** nats-down: the answered calls' records in JetStream. */
  records?: RecordCheck;
  /** temporal-down: llmCall workflows of the part still running `settleMs` after the traffic. */
  unfinishedWorkflows?: number;
}

export interface GatewayKillResult {
  calls: CallTally;
  /** Steady-traffic requests in flight on the killed gateway at the kill. */
  inFlightOnKilled: number;
  errorsOnKilled: number;
  errorsOnSurvivor: number;
  /** The held user's requests on the killed gateway (its every in-flight slot), and how many of them failed. */
  heldRequests: number;
  heldRequestsFailed: number;
  /** The held user's requests the surviving gateway refused (429) before it admitted one. */
  refusedBeforeReadmission: number;
  /** From the kill to the surviving gateway admitting the user; null: not within 60 s. */
  readmittedAfterMs: number | null;
  /** Refusals of the held user that were not 429s (there should be none). */
  readmissionErrors: string[];
}

export interface StackResult {
  sizes: StackSizes;
  outages: OutageResult[];
  gatewayKilled: GatewayKillResult;
  overload: OverloadResult;
}

const TASK_QUEUE = 'bench-stack';
const STEADY_VENDOR_LATENCY_MS = 1_000;
const NAMES_DEPENDENCY = /^(temporal_unavailable|nats_unavailable)$/;

interface Context {
  stack: BenchStack;
  admin: VendorAdmin;
  nats: NatsConnection;
  sizes: StackSizes;
  runId: string;
  log: (line: string) => void;
}

export async function measureStack(
  stack: BenchStack,
  admin: VendorAdmin,
  nats: NatsConnection,
  sizes: StackSizes,
  log: (line: string) => void,
): Promise<StackResult> {
  const ctx: Context = { stack, admin, nats, sizes, runId: randomUUID().slice(0, 8), log };
  const names = { taskQueue: TASK_QUEUE, cluster: TASK_QUEUE };
  const startGateway = async (name: string, nodeArgs: string[] = []) =>
    stackGateway(name, await stack.startGateway({ name: `stack-${name}`, ...names, inProcessWorker: false, nodeArgs, defaultShedding: true }), TENANT_KEY);
  // The overload's gateway and the worker open their inspector: the overload collects their garbage after the cooldown.
  const [worker, a, b] = await Promise.all([
    stack.startWorker({ name: 'stack-worker', ...names, nodeArgs: INSPECT_ARGS }),
    startGateway('gateway-a'),
    startGateway('gateway-b', INSPECT_ARGS),
  ]);
  try {
    const outages = [await measureOutage(ctx, 'nats-down', [a, b]), await measureOutage(ctx, 'temporal-down', [a, b])];
    const gatewayKilled = await measureGatewayKill(ctx, a, b);
    const overload = await measureOverload(b, worker, { runId: ctx.runId, sizes: sizes.overload, log });
    return { sizes, outages, gatewayKilled, overload };
  } finally {
    await admin.clearFaults();
    await Promise.all([stopService(worker), stopService(a.service), stopService(b.service)]);
  }
}

async function measureOutage(ctx: Context, id: OutageResult['id'], gateways: StackGateway[]): Promise<OutageResult> {
  const { stack, sizes } = ctx;
  const part = id === 'nats-down' ? 'nats' : 'temporal';
  const outageMs = id === 'nats-down' ? sizes.natsOutageMs : sizes.temporalOutageMs;
  const sinceMs = Date.now() - 1_000;
  const window = { stoppedAt: Number.POSITIVE_INFINITY, restartedAt: Number.POSITIVE_INFINITY };
  let stopping: Promise<void> = Promise.resolve();
  let restarting: Promise<void> = Promise.resolve();
  // Stopping and restarting run beside the traffic: the open loop must not pause while a server starts.
  const run = await runOpenLoop(
    mixedCall(() => gateways, ctx.runId, id),
    {
      ratePerSecond: sizes.ratePerSecond,
      durationMs: sizes.beforeMs + outageMs + sizes.afterMs,
      maxInFlight: 10_000,
      at: [
        { afterMs: sizes.beforeMs, run: () => void (stopping = stack.stopInfrastructure(part).then(() => void (window.stoppedAt = Date.now()))) },
        {
          afterMs: sizes.beforeMs + outageMs,
          run: () => void (restarting = stopping.then(() => stack.restartInfrastructure()).then(() => void (window.restartedAt = Date.now()))),
        },
      ],
    },
  );
  await restarting;
  const calls = run.outcomes;
  const during = calls.filter((c) => c.sentAt >= window.stoppedAt && c.sentAt <= window.restartedAt);
  const refusals = calls.filter((c) => c.status === 503);
  const result: OutageResult = {
    id,
    outageMs: window.restartedAt - window.stoppedAt,
    calls: tally(calls),
    during: tally(during),
    refusalsNamingDependency: refusals.filter((c) => NAMES_DEPENDENCY.test(c.code ?? '')).length,
    refusalsOverloaded: refusals.filter((c) => c.code === 'overloaded').length,
    refusals503: refusals.length,
  };
  if (id === 'nats-down') result.records = await checkRecords(ctx.nats, calls, sinceMs, sizes.recordWaitMs);
  else result.unfinishedWorkflows = await runningCalls(stack.temporalAddress, sinceMs, sizes.settleMs);
  const after = result.records
    ? `records missing ${result.records.missingRecords}, CallEvents missing ${result.records.missingCallEvents}, duplicates ${result.records.duplicateRecords}/${result.records.duplicateCallEvents}, complete after ${result.records.completeAfterMs ?? 'never'} ms`
    : `llmCall workflows still running ${result.unfinishedWorkflows}`;
  ctx.log(
    `stack ${id}: ${JSON.stringify(result.calls.byStatus)} of ${calls.length} (${during.length} during ${Math.round(result.outageMs / 1000)} s); ${after}`,
  );
  return result;
}

/** llmCall workflows of the part started since `sinceMs` still running, waiting up to `settleMs` for them to finish. */
async function runningCalls(temporalAddress: string, sinceMs: number, settleMs: number): Promise<number> {
  const connection = await Connection.connect({ address: temporalAddress });
  try {
    const client = new Client({ connection, dataConverter: benchDataConverter });
    const query = `WorkflowType = 'llmCall' AND TaskQueue = '${TASK_QUEUE}' AND ExecutionStatus = 'Running' AND StartTime >= '${new Date(sinceMs).toISOString()}'`;
    const deadline = Date.now() + settleMs;
    for (;;) {
      const { count } = await client.workflow.count(query);
      if (count === 0 || Date.now() > deadline) return count;
      await new Promise((r) => setTimeout(r, 1_000));
    }
  } finally {
    await connection.close();
  }
}

async function measureGatewayKill(ctx: Context, victim: StackGateway, survivor: StackGateway): Promise<GatewayKillResult> {
  const { admin, sizes, runId } = ctx;
  let live = [victim, survivor];
  const inFlight = new Map<string, number>();
  const steady = mixedCall(() => live, runId, 'gateway-killed');
  const traffic = (i: number) => {
    const name = live[i % live.length]!.name;
    inFlight.set(name, (inFlight.get(name) ?? 0) + 1);
    return steady(i).finally(() => inFlight.set(name, inFlight.get(name)! - 1));
  };
  // The held user's every in-flight slot (an untrusted user has 2) sits on the gateway that dies.
  const heldUser = `u-${runId}-held`;
  const heldMarker = `held-${runId}`;
  // Steady calls take a second at the vendor, as short real answers do, so some are in flight on the gateway at its kill.
  await admin.setFaults(
    ctx.stack.organisations.flatMap((organisation) => [
      { organisation, promptContains: heldMarker, fault: { kind: 'latency' as const, ms: sizes.heldRequestMs } },
      { organisation, promptContains: `stack ${runId} gateway-killed`, fault: { kind: 'latency' as const, ms: STEADY_VENDOR_LATENCY_MS } },
    ]),
  );
  const loop = runOpenLoop(traffic, { ratePerSecond: sizes.ratePerSecond, durationMs: sizes.beforeMs + sizes.afterMs, maxInFlight: 10_000 });
  const started = Date.now();
  const held = [0, 1].map((k) =>
    callGateway(victim.client, {
      gateway: victim.name,
      model: victim.model,
      prompt: `${heldMarker}-${k}: a long answer, please.`,
      stream: false,
      user: heldUser,
    }),
  );
  const deadline = Date.now() + 30_000;
  while ((await admin.requests({ contains: [heldMarker] })).length < held.length) {
    if (Date.now() > deadline) throw new Error('the held requests did not reach the vendor within 30 s');
    await new Promise((r) => setTimeout(r, 200));
  }
  await new Promise((r) => setTimeout(r, Math.max(0, started + sizes.beforeMs - Date.now())));
  // As a load balancer would: the dead gateway gets no new requests.
  live = [survivor];
  const inFlightOnKilled = inFlight.get(victim.name) ?? 0;
  victim.service.child.kill('SIGKILL');
  const killedAt = Date.now();
  ctx.log(`stack gateway-killed: SIGKILL ${victim.name} with ${inFlightOnKilled} steady requests and ${heldUser}'s ${held.length} in flight`);
  await victim.service.exited;

  let refused = 0;
  let readmittedAfterMs: number | null = null;
  const readmissionErrors: string[] = [];
  for (let n = 0; Date.now() - killedAt < 60_000; n++) {
    const c = await callGateway(survivor.client, {
      gateway: survivor.name,
      model: survivor.model,
      prompt: `readmit ${runId} #${n}`,
      stream: false,
      user: heldUser,
    });
    if (c.ok) {
      readmittedAfterMs = c.sentAt - killedAt;
      break;
    }
    if (c.status === 429) refused++;
    else readmissionErrors.push(`${c.status ?? 'no answer'} ${c.code ?? ''}: ${c.message}`);
    // A client that honours retry-after never counts as hammering.
    await new Promise((r) => setTimeout(r, c.retryAfterMs ?? (Number(c.retryAfter) || 1) * 1_000));
  }
  const run = await loop;
  const heldOutcomes = await Promise.all(held);
  const failedOn = (name: string) => run.outcomes.filter((c: StackCall) => c.gateway === name && !c.ok).length;
  const result: GatewayKillResult = {
    calls: tally(run.outcomes),
    inFlightOnKilled,
    errorsOnKilled: failedOn(victim.name),
    errorsOnSurvivor: failedOn(survivor.name),
    heldRequests: held.length,
    heldRequestsFailed: heldOutcomes.filter((c) => !c.ok).length,
    refusedBeforeReadmission: refused,
    readmittedAfterMs,
    readmissionErrors: readmissionErrors.slice(0, 3),
  };
  ctx.log(
    `stack gateway-killed: errors ${result.errorsOnKilled} on the killed gateway (${inFlightOnKilled} in flight), ${result.errorsOnSurvivor} on the other; ${heldUser} admitted again after ${readmittedAfterMs ?? 'never'} ms (${refused} × 429 first)`,
  );
  return result;
}
