/**
 * The gateway's HTTP server on node:http: routing, error answers, metrics
 * and the health endpoints. Handlers live beside it, one file per concern.
 */
import { createChainRegistry } from '../../lib/chains/registry';
import { sitePlannerChain } from '../../lib/chains/site-planner';
import { handleDescribeChain, handleStartChain } from './chains';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import type { NatsConnection } from 'nats';
import type { Logger } from '../../lib/log';
import type { AnswerHandoff } from '../../lib/call/answer-handoff';
import { createLiveConfig, type LiveConfig } from '../../lib/config/live-config';
import { registerConfigMetrics } from '../../lib/metrics/config-metrics';
import { ensureStreams } from '../../lib/nats/streams';
import { createOutbox } from '../../lib/nats/outbox';
import { createOutboxMetrics } from '../../lib/metrics/outbox-metrics';
import type { SwitchboardConfig } from '../../schemas/config';
import { createAdmission } from './admission';
import { createAdmissionQueue } from './admission-queue';
import { createLoadGauge } from '../../lib/admission/load-shedding';
import { createCallStarter } from './calls';
import { createTemporalReachability } from './temporal-reachability';
import { handleChatCompletions, handleMessages } from './chat-completions';
import type { GatewayContext } from './context';
import { createCodecServer, type CodecServerOptions, withoutCodecToken } from './codec-server';
import { handleFeedback } from './feedback';
import { handleListModels, handleRetrieveModel } from './models/list-models';
import { handleEmbeddings } from './embeddings';
import { handleResponses } from './responses/handler';
import { createResponseStore } from './responses/store';
import { handleReport } from './reports';
import { GatewayError, isGatewayError, type ErrorDialect } from './http-errors';
import { dependencyErrorOf } from './dependency-errors';
import { sendError, sendJson } from './http-io';
import { createGatewayMetrics, registerSheddingMetrics } from './metrics';
import { createTenantDirectory } from './tenants';
import { withTimeout } from '../../lib/timeout';

export interface GatewayOptions {
  /** The start-up config; ignored when `live` is given. */
  config: SwitchboardConfig;
  /** A reloadable config: tenants, chains, admission limits and body/deadline settings follow it. Default: `config`, fixed. */
  live?: LiveConfig;
  client: Client;
  nats: NatsConnection;
  taskQueue: string;
  /** Request eager workflow start: only useful when a worker shares the client's connection. Default false. */
  eagerStart?: boolean;
  /** The in-process worker's hand-off (lib/call/answer-handoff.ts): eagerly started calls take their answer from it. Default none. */
  answerHandoff?: AnswerHandoff;
  log: Logger;
  /** Serve `/codec/encode` and `/codec/decode` for operators (codec-server.ts). Default off. */
  codecServer?: CodecServerOptions;
}

export interface Gateway {
  server: Server;
  context: GatewayContext;
  listen(port: number, host?: string): Promise<string>;
  /** Stops accepting, lets in-flight requests finish (cut after `graceMs`, default 10 s), then resolves. */
  close(graceMs?: number): Promise<void>;
}

/** True when the failure is the caller hanging up (aborted upload, closed socket), not ours. */
function isClientGone(req: IncomingMessage, res: ServerResponse, error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return (
    req.socket.destroyed ||
    (res.destroyed && !res.writableFinished) ||
    code === 'ECONNRESET' ||
    code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    (error instanceof Error && error.message === 'aborted')
  );
}

/** Bounds a readiness probe: a dead dependency must not hang it. */
const READY_TIMEOUT_MS = 2_000;
/** Bounds load shedding's check that Temporal answers (services/gateway/temporal-reachability.ts). */
const TEMPORAL_CHECK_MS = 1_000;

export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const { client, nats, log } = options;
  const live = options.live ?? createLiveConfig({ config: options.config, secrets: new Map() });
  const config = live.current();
  await ensureStreams(nats);
  const metrics = createGatewayMetrics();
  // The gRPC deadline ends the call's own retries too (the SDK retries UNAVAILABLE for ~20 s), not only our wait: a probe
  // left retrying in the background outlives its answer and, once the connection is closed, fails on a shut channel.
  const askTemporal = (ms: number) => client.connection.withDeadline(Date.now() + ms, () => client.connection.workflowService.getSystemInfo({}));
  const outboxMetrics = createOutboxMetrics(metrics.registry);
  const outbox = createOutbox(nats, { ...config.outbox, log, onDropped: outboxMetrics.onDropped });
  outboxMetrics.watch(outbox);
  const context: GatewayContext = {
    // A getter: handlers read the config serving now.
    get config() {
      return live.current();
    },
    client,
    nats,
    outbox,
    log,
    tenants: createTenantDirectory(config.gateway),
    chains: createChainRegistry({ config, inCode: [sitePlannerChain()] }),
    ...(options.taskQueue ? { taskQueue: options.taskQueue } : {}),
    admission: await createAdmission(nats, config.gateway.admission, log),
    admissionQueue: createAdmissionQueue(),
    load: createLoadGauge({
      windowMs: config.gateway.shedding.windowMs,
      limits: () => {
        const { adaptiveLimit, maxInFlight } = live.current().gateway.shedding;
        return { ...adaptiveLimit, maxLimit: maxInFlight };
      },
    }),
    temporal: createTemporalReachability(() => askTemporal(TEMPORAL_CHECK_MS), { timeoutMs: TEMPORAL_CHECK_MS, maxAgeMs: 1_000 }),
    responses: createResponseStore(nats, client.options.loadedDataConverter.payloadCodecs),
    startCall: createCallStarter({
      client,
      taskQueue: options.taskQueue,
      eagerStart: options.eagerStart ?? false,
      ...(options.answerHandoff ? { handoff: options.answerHandoff } : {}),
      onStarted: (eager) => metrics.workflowStarts.inc({ eager: String(eager) }),
      onAnswered: (via) => metrics.callResults.inc({ via }),
    }),
    metrics,
  };
  // Tenants and chains are rebuilt before the swap (a duplicate chain rejects the reload); admission
  // opens its bucket asynchronously, so new limits apply a moment after the swap.
  const stopFollowing = live.onReload((next, previous) => {
    const tenants = createTenantDirectory(next.config.gateway);
    const chains = createChainRegistry({ config: next.config, inCode: [sitePlannerChain()] });
    return () => {
      context.tenants = tenants;
      context.chains = chains;
      if (JSON.stringify(next.config.gateway.admission) === JSON.stringify(previous.config.gateway.admission)) return;
      createAdmission(nats, next.config.gateway.admission, log).then(
        (admission) => (context.admission = admission),
        (error: unknown) => log.error({ err: error }, 'could not apply the new admission limits; the previous ones stay'),
      );
    };
  });
  const stopCountingReloads = registerConfigMetrics(metrics.registry, live);
  registerSheddingMetrics(metrics.registry, () => context.load.snapshot());
  const handleCodec = options.codecServer ? createCodecServer(options.codecServer) : undefined;

  async function ready(res: ServerResponse): Promise<void> {
    const [temporal, natsOk] = await Promise.allSettled([
      withTimeout(askTemporal(READY_TIMEOUT_MS), READY_TIMEOUT_MS),
      withTimeout(nats.isClosed() ? Promise.reject(new Error('closed')) : nats.flush(), READY_TIMEOUT_MS),
    ]);
    const body = { temporal: temporal.status === 'fulfilled' ? 'ok' : 'unreachable', nats: natsOk.status === 'fulfilled' ? 'ok' : 'unreachable' };
    sendJson(res, body.temporal === 'ok' && body.nats === 'ok' ? 200 : 503, body);
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<{ endpoint: string; route: string; dialect: ErrorDialect }> {
    const path = (req.url ?? '/').split('?')[0];
    const post = req.method === 'POST';
    if (handleCodec && path?.startsWith('/codec/') && (await handleCodec(req, res, path))) return { endpoint: 'codec', route: '', dialect: 'openai' };
    if (post && path === '/v1/chat/completions') return { endpoint: 'chat', route: await handleChatCompletions(context, req, res), dialect: 'openai' };
    if (post && path === '/v1/embeddings') return { endpoint: 'embeddings', route: await handleEmbeddings(context, req, res), dialect: 'openai' };
    if (post && path === '/v1/responses') return { endpoint: 'responses', route: await handleResponses(context, req, res), dialect: 'openai' };
    if (post && path === '/v1/messages') return { endpoint: 'messages', route: await handleMessages(context, req, res), dialect: 'anthropic' };
    if (post && path === '/v1/chains') {
      await handleStartChain(context, req, res);
      return { endpoint: 'chains', route: '', dialect: 'openai' };
    }
    if (req.method === 'GET' && path?.startsWith('/v1/chains/')) {
      await handleDescribeChain(context, req, res, path.slice('/v1/chains/'.length));
      return { endpoint: 'chains', route: '', dialect: 'openai' };
    }
    if (post && path === '/v1/feedback') {
      await handleFeedback(context, req, res);
      return { endpoint: 'feedback', route: '', dialect: 'openai' };
    }
    if (req.method === 'GET' && (path === '/v1/reports/insert-rate' || path === '/v1/reports/cost')) {
      await handleReport(context, req, res, path === '/v1/reports/cost' ? 'cost' : 'insert-rate');
      return { endpoint: 'reports', route: '', dialect: 'openai' };
    }
    if (req.method === 'GET' && path === '/v1/models') {
      handleListModels(context, req, res);
      return { endpoint: 'models', route: '', dialect: 'openai' };
    }
    if (req.method === 'GET' && path?.startsWith('/v1/models/')) {
      handleRetrieveModel(context, req, res, path.slice('/v1/models/'.length));
      return { endpoint: 'models', route: '', dialect: 'openai' };
    }
    if (req.method === 'GET' && path === '/healthz') sendJson(res, 200, { status: 'ok' });
    else if (req.method === 'GET' && path === '/readyz') await ready(res);
    else if (req.method === 'GET' && path === '/metrics') {
      const text = await metrics.registry.metrics();
      res.writeHead(200, { 'content-type': metrics.registry.contentType });
      res.end(text);
    } else throw new GatewayError(404, 'invalid_request_error', `no endpoint ${req.method} ${path}`, { code: 'unknown_endpoint' });
    return { endpoint: path ?? '/', route: '', dialect: 'openai' };
  }

  // A body that trickles in must not hold a connection forever (the call deadline starts only once it is read). Node enforces
  // requestTimeout only when it checks connections: every second here, not every 30 s (a slow body got its 408 after ~68 s).
  const requestTimeoutMs = config.gateway.requestTimeoutMs;
  const server = createServer({ requestTimeout: requestTimeoutMs, headersTimeout: requestTimeoutMs, connectionsCheckingInterval: 1_000 }, (req, res) => {
    const started = performance.now();
    const dialect: ErrorDialect = req.url?.startsWith('/v1/messages') ? 'anthropic' : 'openai';
    const endpoint = dialect === 'anthropic' ? 'messages' : (req.url ?? '').startsWith('/v1/chat') ? 'chat' : 'other';
    route(req, res).then(
      (done) => {
        metrics.requests.inc({ endpoint: done.endpoint, route: done.route, status: String(res.statusCode) });
        metrics.duration.observe(
          { endpoint: done.endpoint, stream: String(String(res.getHeader('content-type')).includes('event-stream')) },
          (performance.now() - started) / 1000,
        );
      },
      (error: unknown) => {
        const known = isGatewayError(error) ? error : (dependencyErrorOf(error) ?? new GatewayError(500, 'server_error', 'internal error in the gateway'));
        // A caller that went away is not our failure; a dependency outage is a warning with its own 503.
        if (isClientGone(req, res, error)) log.info({ url: withoutCodecToken(req.url) }, 'the client went away before its answer');
        else if (known.status >= 500 && !isGatewayError(error))
          log[known.status === 503 ? 'warn' : 'error']({ err: error, url: withoutCodecToken(req.url) }, 'gateway request failed');
        if (known.status === 429 || known.extra.code === 'overloaded') metrics.admissionRejected.inc({ reason: known.extra.code ?? 'unknown' });
        metrics.requests.inc({ endpoint, route: '', status: String(known.status) });
        sendError(res, known, dialect);
      },
    );
  });
  server.keepAliveTimeout = 65_000;

  return {
    server,
    context,
    listen: (port, host = '127.0.0.1') =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          const address = server.address() as AddressInfo;
          resolve(`http://${host}:${address.port}`);
        });
      }),
    close: (graceMs = 10_000) =>
      new Promise((resolve) => {
        stopFollowing();
        stopCountingReloads();
        const cut = setTimeout(() => server.closeAllConnections(), graceMs);
        server.close(() => {
          clearTimeout(cut);
          // Feedback still waiting for NATS gets a last chance before the process goes.
          void outbox.close().finally(resolve);
        });
        server.closeIdleConnections();
      }),
  };
}
