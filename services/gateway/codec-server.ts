/**
 * The codec server: `POST /codec/encode` and `POST /codec/decode` in
 * Temporal's codec-server protocol (`{payloads: [{metadata: {name: base64},
 * data: base64}]}` both ways), so an operator can read encrypted payloads in
 * the Temporal UI (`--ui-codec-endpoint`) and with `temporal workflow show
 * --codec-endpoint … --codec-auth "Bearer <token>"`. Only for the operator
 * token (SB_CODEC_TOKEN): as a bearer header, or as the path segment
 * `/codec/<token>/decode` for a UI that cannot send headers. Browsers may
 * call it only from the configured origins (CORS, SB_CODEC_CORS_ORIGINS).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Payload } from '@temporalio/common';
import { z } from 'zod';
import type { PayloadKeyring } from '../../lib/codec/keyring';
import { decryptPayload, encryptPayload, isPayloadDecryptionError } from '../../lib/codec/payload-codec';
import { badRequest, badRequestOfIssues, GatewayError } from './http-errors';
import { parseJsonBody, readBody, sendJson } from './http-io';

export interface CodecServerOptions {
  keyring: PayloadKeyring;
  /** The operator token callers present. */
  token: string;
  /** Browser origins allowed to call (the Temporal UI's); others get no CORS headers. */
  corsOrigins: readonly string[];
}

/** A history's payloads can be many: more room than a chat body, still bounded. */
const MAX_CODEC_BODY_BYTES = 8 * 1024 * 1024;
const PATH = /^\/codec\/(?:([A-Za-z0-9_-]{16,128})\/)?(encode|decode)$/;

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64');
const WirePayload = z.object({ metadata: z.record(z.string(), base64).optional(), data: base64.optional() });
const CodecBody = z.object({ payloads: z.array(WirePayload) });

const fromWire = (p: z.infer<typeof WirePayload>): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([name, value]) => [name, Buffer.from(value, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});
const toWire = (p: Payload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([name, value]) => [name, Buffer.from(value).toString('base64')])),
  data: Buffer.from(p.data ?? new Uint8Array(0)).toString('base64'),
});

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

export function createCodecServer({ keyring, token, corsOrigins }: CodecServerOptions) {
  const tokenDigest = digest(token);
  const isOperator = (presented: string | undefined) => presented !== undefined && timingSafeEqual(digest(presented), tokenDigest);

  function corsHeaders(req: IncomingMessage): Record<string, string> {
    const origin = req.headers.origin;
    if (!origin || !corsOrigins.includes(origin)) return {};
    return { 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true', vary: 'origin' };
  }

  /** Answers a `/codec/…` request; false when the path is not the codec server's. */
  return async function handleCodec(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
    const match = PATH.exec(path);
    if (!match) return false;
    const cors = corsHeaders(req);
    if (req.method === 'OPTIONS') {
      // A preflight carries no credentials; it only learns what the real request may send.
      res.writeHead(cors['access-control-allow-origin'] ? 204 : 403, {
        ...cors,
        'access-control-allow-methods': 'POST, OPTIONS',
        'access-control-allow-headers': 'authorization, content-type, x-namespace',
        'access-control-max-age': '600',
      });
      res.end();
      return true;
    }
    if (req.method !== 'POST')
      throw new GatewayError(405, 'invalid_request_error', `${req.method} is not allowed on ${path.replace(match[1] ?? '', '…')}`, {
        code: 'method_not_allowed',
      });
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization?.trim() ?? '')?.[1];
    if (!isOperator(match[1] ?? bearer)) {
      throw new GatewayError(401, 'authentication_error', 'the codec server needs the operator token', { code: 'invalid_operator_token', headers: cors });
    }
    const parsed = CodecBody.safeParse(parseJsonBody(await readBody(req, MAX_CODEC_BODY_BYTES)));
    if (!parsed.success) throw badRequestOfIssues(parsed.error.issues, 'invalid codec request');
    const payloads = parsed.data.payloads.map(fromWire);
    let out: Payload[];
    try {
      out = match[2] === 'encode' ? payloads.map((p) => encryptPayload(keyring, p)) : payloads.map((p) => decryptPayload(keyring, p));
    } catch (error) {
      if (isPayloadDecryptionError(error)) throw badRequest(error.message, 'payloads', 'undecryptable_payload');
      throw error;
    }
    sendJson(res, 200, { payloads: out.map(toWire) }, cors);
    return true;
  };
}

/** The request's path may carry the operator token: never let it reach a log line (the server logs the URL of a 500). */
export function withoutCodecToken(url: string | undefined): string | undefined {
  return url?.replace(/^\/codec\/[A-Za-z0-9_-]{16,128}\//, '/codec/…/');
}
