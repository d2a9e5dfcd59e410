/**
 * The HTTP server: routes vendor paths to the OpenAI or Anthropic protocol
 * and `/_admin` to the admin API, and tracks every socket so closing the
 * vendor also ends hanging and stalled requests.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { serveAdmin } from './admin-api';
import { prepareMessages } from './anthropic/messages';
import { anthropicAdapter, renderAnthropicModels } from './anthropic/protocol';
import { prepareChatCompletion } from './openai/chat';
import { openAiAdapter, prepareEmbeddings, renderOpenAiModels } from './openai/protocol';
import type { OrganisationRegistry } from './organisations';
import type { ProtocolAdapter } from './vendor-call';
import type { VendorControl } from './vendor-control';
import { serveVendorRoute, type VendorDependencies, type VendorRoute } from './vendor-pipeline';

/**
 * Which vendor a shared path like `/v1/models` speaks for: the key's
 * organisation decides; without a known key, Anthropic's own headers do.
 */
function adapterFor(req: IncomingMessage, registry: OrganisationRegistry): ProtocolAdapter {
  const key = anthropicAdapter.apiKeyOf(req);
  const owner = key === undefined ? undefined : registry.byKey(key);
  if (owner !== undefined) return owner.organisation.protocol === 'anthropic' ? anthropicAdapter : openAiAdapter;
  return req.headers['x-api-key'] !== undefined || req.headers['anthropic-version'] !== undefined ? anthropicAdapter : openAiAdapter;
}

function vendorRoute(method: string, path: string, req: IncomingMessage, registry: OrganisationRegistry): VendorRoute | undefined {
  if (method === 'POST' && path === '/v1/chat/completions') return { kind: 'call', adapter: openAiAdapter, path, prepare: prepareChatCompletion };
  if (method === 'POST' && path === '/v1/embeddings') return { kind: 'call', adapter: openAiAdapter, path, prepare: prepareEmbeddings };
  if (method === 'POST' && path === '/v1/messages') return { kind: 'call', adapter: anthropicAdapter, path, prepare: prepareMessages };
  if (method === 'GET' && (path === '/v1/models' || path.startsWith('/v1/models/'))) {
    const adapter = adapterFor(req, registry);
    const modelId = path.length > '/v1/models/'.length ? decodeURIComponent(path.slice('/v1/models/'.length)) : undefined;
    return { kind: 'models', adapter, path, modelId, render: adapter === anthropicAdapter ? renderAnthropicModels : renderOpenAiModels };
  }
  return undefined;
}

function notFound(req: IncomingMessage, res: ServerResponse, registry: OrganisationRegistry, method: string, path: string): void {
  const rendered = adapterFor(req, registry).renderError({ kind: 'route_not_found', method, path });
  res.writeHead(rendered.status, { 'content-type': rendered.contentType, 'content-length': Buffer.byteLength(rendered.body) });
  res.end(rendered.body);
}

export function createVendorServer(deps: VendorDependencies, control: VendorControl): Server {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const path = queryAt < 0 ? url : url.slice(0, queryAt);
    const method = req.method ?? 'GET';
    if (path === '/_admin' || path.startsWith('/_admin/')) {
      await serveAdmin(control, req, res, path, new URLSearchParams(queryAt < 0 ? '' : url.slice(queryAt + 1)));
      return;
    }
    const route = vendorRoute(method, path, req, deps.registry);
    if (route === undefined) notFound(req, res, deps.registry, method, path);
    else await serveVendorRoute(deps, req, res, route);
  };

  const server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      deps.logger.error({ err: error, path: req.url }, 'fake vendor failed to handle a request');
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'fake vendor internal error' }));
      } else {
        res.destroy();
      }
    });
  });
  // A client that disconnects mid-request is normal here (timeouts are half the point).
  server.on('clientError', (_error, socket) => socket.destroy());
  return server;
}
