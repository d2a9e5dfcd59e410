/**
 * One vendor request, start to finish, the same for both protocols:
 * authenticate → read and parse the body → choose faults → record what the
 * vendor saw → rate-limit → answer (now, later, streamed, broken, or never).
 */
import { hash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { VendorRequestRecord } from '../../schemas/fake-vendor';
import type { FaultEngine } from './fault-engine';
import type { TerminalFault } from './fault-selection';
import { BodyTooLargeError, MAX_BODY_BYTES, parseJsonText, readBody } from './http-exchange';
import type { KeyOwner, Organisation, OrganisationRegistry } from './organisations';
import { peekLimits, takeFromLimits } from './rate-limit';
import type { RequestLog } from './request-log';
import type { Scheduler } from './scheduler';
import { deliverStream } from './stream-delivery';
import { isVendorError, type PrepareCall, type ProtocolAdapter, type VendorCall } from './vendor-call';
import type { VendorError } from './vendor-errors';

export interface VendorDependencies {
  registry: OrganisationRegistry;
  faults: FaultEngine;
  log: RequestLog;
  scheduler: Scheduler;
  now: () => number;
  seed: number;
  answerTokens: { min: number; max: number };
  logger: Logger;
}

/** What a route asks of the pipeline: serve a call, or list models. */
export type VendorRoute =
  | { kind: 'call'; adapter: ProtocolAdapter; path: string; prepare: PrepareCall }
  | { kind: 'models'; adapter: ProtocolAdapter; path: string; modelId?: string; render: (organisation: Organisation, modelId?: string) => string | undefined };

/** Per-request state the steps share. */
interface Exchange {
  deps: VendorDependencies;
  req: IncomingMessage;
  res: ServerResponse;
  adapter: ProtocolAdapter;
  record: VendorRequestRecord;
  owner?: KeyOwner;
}

export async function serveVendorRoute(deps: VendorDependencies, req: IncomingMessage, res: ServerResponse, route: VendorRoute): Promise<void> {
  const { adapter } = route;
  const record: VendorRequestRecord = {
    id: adapter.newRequestId(),
    time: deps.now(),
    protocol: adapter.protocol,
    path: route.path,
    organisation: null,
    keyName: null,
    model: null,
    stream: false,
    fault: null,
    faults: [],
    status: null,
    promptHash: null,
    promptChars: 0,
    promptTokens: 0,
    completionTokens: null,
  };
  const exchange: Exchange = { deps, req, res, adapter, record };
  const key = adapter.apiKeyOf(req);
  const owner = key === undefined ? undefined : deps.registry.byKey(key);
  if (owner === undefined || owner.organisation.protocol !== adapter.protocol) {
    deps.log.append(record, '');
    sendError(exchange, key === undefined ? { kind: 'missing_key' } : { kind: 'invalid_key', key });
    return;
  }
  exchange.owner = owner;
  record.organisation = owner.organisation.id;
  record.keyName = owner.keyName;
  const headerError = adapter.checkHeaders(req);
  if (headerError !== undefined) {
    deps.log.append(record, '');
    sendError(exchange, headerError);
    return;
  }
  if (route.kind === 'models') {
    deps.log.append(record, '');
    const body = route.render(owner.organisation, route.modelId);
    if (body === undefined) sendError(exchange, { kind: 'model_not_found', model: route.modelId ?? '' });
    else send(exchange, 200, 'application/json', body);
    return;
  }
  const call = await readCall(exchange, route.prepare);
  if (call === undefined) return;
  serveCall(exchange, call);
}

async function readCall(exchange: Exchange, prepare: PrepareCall): Promise<VendorCall | undefined> {
  const { deps, record } = exchange;
  let text: string;
  try {
    text = await readBody(exchange.req);
  } catch (error) {
    deps.log.append(record, '');
    if (error instanceof BodyTooLargeError) sendError(exchange, { kind: 'body_too_large', limitBytes: MAX_BODY_BYTES });
    return undefined;
  }
  const json = parseJsonText(text);
  const prepared: VendorCall | VendorError =
    json.ok && exchange.owner !== undefined
      ? prepare(json.value, exchange.owner.organisation, { seed: deps.seed, answerTokens: deps.answerTokens, nowMs: record.time })
      : { kind: 'unparseable_body' };
  if (isVendorError(prepared)) {
    if (prepared.kind === 'model_not_found') record.model = prepared.model;
    deps.log.append(record, '');
    sendError(exchange, prepared);
    return undefined;
  }
  return prepared;
}

function serveCall(exchange: Exchange, call: VendorCall): void {
  const { deps, record, res } = exchange;
  const organisation = exchange.owner?.organisation;
  if (organisation === undefined) return;
  record.model = call.model.id;
  record.stream = call.stream;
  // One-shot hashing: several times cheaper than createHash() for prompt-sized inputs.
  record.promptHash = hash('sha256', call.promptText, 'hex');
  record.promptChars = call.promptText.length;
  record.promptTokens = call.promptTokens;
  let lower: string | undefined;
  const plan = deps.faults.plan({
    organisation: organisation.id,
    model: call.model.id,
    stream: call.stream,
    structured: call.structured,
    promptTextLower: () => (lower ??= call.promptText.toLowerCase()),
    nowMs: record.time,
  });
  // A copy: the no-fault plan is shared by every request.
  record.faults = [...plan.firedKinds];
  record.fault = plan.decisive;
  deps.log.append(record, call.promptText);

  const delayMs = organisation.timing.latencyMs + plan.latencyMs;
  if (plan.terminal !== null) {
    const terminal = plan.terminal;
    later(exchange, delayMs, () => applyTerminalFault(exchange, call, terminal));
    return;
  }
  if (call.promptTokens > call.model.contextTokens) {
    later(exchange, delayMs, () =>
      sendError(exchange, { kind: 'context_length', model: call.model.id, contextTokens: call.model.contextTokens, promptTokens: call.promptTokens }),
    );
    return;
  }
  const produced = call.produce(plan.invalidJson);
  record.completionTokens = produced.completionTokens;
  const taken = takeFromLimits(organisation.limiter, organisation.limits, record.time, call.promptTokens + produced.completionTokens);
  organisation.limiter = taken.state;
  if (!taken.allowed) {
    const retryAfterSeconds = Number.isFinite(taken.retryAfterMs) ? Math.max(1, Math.ceil(taken.retryAfterMs / 1000)) : undefined;
    const limit = taken.scope === 'requests' ? organisation.limits.rpm : organisation.limits.tpm;
    const requested = taken.scope === 'requests' ? 1 : call.promptTokens + produced.completionTokens;
    later(exchange, delayMs, () =>
      sendError(exchange, {
        kind: 'rate_limited',
        scope: taken.scope,
        organisation: organisation.id,
        model: call.model.id,
        limit,
        requested,
        retryAfterSeconds,
      }),
    );
    return;
  }
  const limitHeaders = exchange.adapter.limitHeaders(taken.snapshot, record.time);
  const ttftMs = plan.ttftMs ?? organisation.timing.ttftMs;
  const { tokensPerSecond } = organisation.timing;
  if (!call.stream) {
    const generationMs = ttftMs + (tokensPerSecond > 0 ? (produced.completionTokens * 1000) / tokensPerSecond : 0);
    later(exchange, delayMs + generationMs, () => send(exchange, 200, 'application/json', produced.body(), limitHeaders));
    return;
  }
  later(exchange, delayMs, () => {
    record.status = 200;
    res.writeHead(200, {
      ...exchange.adapter.vendorHeaders(record.id, organisation),
      ...limitHeaders,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    res.flushHeaders();
    deliverStream(res, {
      frames: produced.frames(),
      ttftMs,
      tokensPerSecond,
      fault: plan.stream,
      malformedFrame: exchange.adapter.malformedFrame,
      contentFreeMalformedFrame: exchange.adapter.contentFreeMalformedFrame,
      errorFrame: exchange.adapter.streamErrorFrame,
      scheduler: deps.scheduler,
      now: deps.now,
    });
  });
}

function applyTerminalFault(exchange: Exchange, call: VendorCall, fault: TerminalFault): void {
  const organisation = exchange.owner?.organisation;
  const model = call.model.id;
  switch (fault.kind) {
    case 'reset_before_headers':
      exchange.req.socket.resetAndDestroy();
      return;
    case 'hang':
      // Nothing is ever written; the client's timeout or the vendor's close ends the connection.
      return;
    case 'status':
      sendError(exchange, { kind: 'server', status: fault.status, body: fault.body, message: fault.message });
      return;
    case 'rate_limit':
      sendError(exchange, {
        kind: 'rate_limited',
        scope: fault.scope,
        organisation: organisation?.id ?? '',
        model,
        limit: fault.scope === 'requests' ? (organisation?.limits.rpm ?? 0) : (organisation?.limits.tpm ?? 0),
        requested: fault.scope === 'requests' ? 1 : call.promptTokens,
        retryAfterSeconds: fault.retryAfterSeconds,
      });
      return;
    case 'account_locked':
      sendError(exchange, { kind: 'account_locked', reason: fault.reason, organisation: organisation?.id ?? '', model });
      return;
    case 'context_length_exceeded':
      sendError(exchange, {
        kind: 'context_length',
        model,
        contextTokens: call.model.contextTokens,
        promptTokens: call.model.contextTokens + call.promptTokens,
      });
      return;
    case 'content_policy_violation':
      sendError(exchange, { kind: 'content_policy', message: fault.message });
      return;
  }
}

/** Runs `task` after `delayMs` unless the client has gone; at once when there is no delay (the fast path). */
function later(exchange: Exchange, delayMs: number, task: () => void): void {
  if (delayMs < 1) {
    task();
    return;
  }
  const cancel = exchange.deps.scheduler.after(delayMs, () => {
    if (!exchange.res.destroyed) task();
  });
  exchange.res.once('close', cancel);
}

function sendError(exchange: Exchange, error: VendorError): void {
  const rendered = exchange.adapter.renderError(error);
  const extra: Record<string, string> = {};
  if (error.kind === 'rate_limited' && error.retryAfterSeconds !== undefined) extra['retry-after'] = String(error.retryAfterSeconds);
  const organisation = exchange.owner?.organisation;
  if (organisation !== undefined) {
    const { state, snapshot } = peekLimits(organisation.limiter, organisation.limits, exchange.deps.now());
    organisation.limiter = state;
    Object.assign(extra, exchange.adapter.limitHeaders(snapshot, exchange.deps.now()));
  }
  send(exchange, rendered.status, rendered.contentType, rendered.body, extra);
}

function send(exchange: Exchange, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  const { res, record } = exchange;
  if (res.headersSent || res.destroyed) return;
  record.status = status;
  const all = exchange.adapter.vendorHeaders(record.id, exchange.owner?.organisation);
  Object.assign(all, headers);
  all['content-type'] = contentType;
  all['content-length'] = String(Buffer.byteLength(body));
  res.writeHead(status, all);
  res.end(body);
}
