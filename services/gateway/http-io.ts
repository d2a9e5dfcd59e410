/** Reading request bodies under a size cap and writing JSON answers, on node:http directly. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { badRequest, errorBody, type GatewayError, type ErrorDialect } from './http-errors';

/** The body, or a 400 once it passes `maxBytes` (the rest is not read). */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) return Promise.reject(tooLarge(maxBytes));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(tooLarge(maxBytes));
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function tooLarge(maxBytes: number): GatewayError {
  return badRequest(`request body is larger than ${maxBytes} bytes`, undefined, 'request_too_large');
}

export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) throw badRequest('the request body is empty; a JSON object was expected', undefined, 'invalid_json');
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw badRequest(`the request body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`, undefined, 'invalid_json');
  }
}

/**
 * A percent-encoded path segment, decoded. Handlers call it after
 * authentication, so a malformed segment from an unknown caller is a 401
 * like any other request, and from a known one a 400 naming the parameter.
 */
export function decodePathParam(raw: string, name: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw badRequest(`the ${name} in the path is not valid percent-encoding`, name, 'invalid_path_parameter');
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendError(res: ServerResponse, error: GatewayError, dialect: ErrorDialect): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  sendJson(res, error.status, errorBody(error, dialect), error.extra.headers);
}

/** The caller's address: the socket's, since the gateway is the first hop (no trusted proxy header parsing). */
/**
 * The client's address: behind trusted proxies, the `hops`-th entry from the
 * right of their header (entries further left are the client's own claims);
 * else the socket's peer.
 */
export function clientAddress(req: IncomingMessage, trustProxy: { header: string; hops: number } | undefined): { ip: string; trusted: boolean } {
  const peer = req.socket.remoteAddress ?? 'unknown';
  if (!trustProxy) return { ip: peer, trusted: false };
  const raw = req.headers[trustProxy.header];
  const entries = (Array.isArray(raw) ? raw.join(',') : (raw ?? ''))
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const ip = entries[entries.length - trustProxy.hops];
  return ip ? { ip, trusted: true } : { ip: peer, trusted: false };
}
