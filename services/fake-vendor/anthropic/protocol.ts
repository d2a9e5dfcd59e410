/**
 * The Anthropic side of the fake vendor: `x-api-key` (or bearer) authentication, the
 * required `anthropic-version` header, `request-id` and
 * `anthropic-ratelimit-*` headers, and the model list. Messages live in
 * `./messages.ts`.
 */
import type { IncomingMessage } from 'node:http';
import { ANTHROPIC_MALFORMED_FRAME } from './messages';
import { anthropicStreamError, renderAnthropicError } from './errors';
import type { Organisation } from '../organisations';
import { formatResetInstant } from '../rate-limit';
import type { ProtocolAdapter } from '../vendor-call';
import { idFactory } from '../vendor-ids';

export const anthropicAdapter: ProtocolAdapter = {
  protocol: 'anthropic',
  apiKeyOf(req: IncomingMessage) {
    const header = req.headers['x-api-key'];
    if (typeof header === 'string' && header !== '') return header;
    // Recent SDKs send the API key as a bearer token, which the API accepts too.
    const authorization = req.headers.authorization;
    return authorization === undefined ? undefined : BEARER.exec(authorization)?.[1];
  },
  checkHeaders(req) {
    const version = req.headers['anthropic-version'];
    return typeof version === 'string' && version !== '' ? undefined : { kind: 'missing_version' };
  },
  newRequestId: idFactory('req_', 24),
  vendorHeaders(requestId, organisation) {
    const headers: Record<string, string> = { 'request-id': requestId };
    if (organisation !== undefined) headers['anthropic-organization-id'] = organisation.id;
    return headers;
  },
  limitHeaders(snapshot, nowMs) {
    const requestsReset = formatResetInstant(nowMs, snapshot.requests.resetMs);
    const tokensReset = formatResetInstant(nowMs, snapshot.tokens.resetMs);
    return {
      'anthropic-ratelimit-requests-limit': String(snapshot.requests.limit),
      'anthropic-ratelimit-requests-remaining': String(snapshot.requests.remaining),
      'anthropic-ratelimit-requests-reset': requestsReset,
      'anthropic-ratelimit-tokens-limit': String(snapshot.tokens.limit),
      'anthropic-ratelimit-tokens-remaining': String(snapshot.tokens.remaining),
      'anthropic-ratelimit-tokens-reset': tokensReset,
    };
  },
  renderError: renderAnthropicError,
  streamErrorFrame: (status) => `event: error\ndata: ${anthropicStreamError(status)}\n\n`,
  malformedFrame: ANTHROPIC_MALFORMED_FRAME,
  contentFreeMalformedFrame: 'event: ping\ndata: {"type":"pi\n\n',
};

const BEARER = /^Bearer\s+(\S+)\s*$/i;
const MODEL_CREATED_AT = '2025-09-29T00:00:00Z';

function displayName(id: string): string {
  return id
    .split('-')
    .map((part) => (/^\d+$/.test(part) ? part : part.charAt(0).toUpperCase() + part.slice(1)))
    .join(' ')
    .replace(/(\d) (\d)/g, '$1.$2');
}

export function renderAnthropicModels(organisation: Organisation, modelId?: string): string | undefined {
  const describe = (id: string) => ({ type: 'model', id, display_name: displayName(id), created_at: MODEL_CREATED_AT });
  if (modelId !== undefined) return organisation.models.has(modelId) ? JSON.stringify(describe(modelId)) : undefined;
  const ids = [...organisation.models.keys()];
  return JSON.stringify({ data: ids.map(describe), has_more: false, first_id: ids[0] ?? null, last_id: ids[ids.length - 1] ?? null });
}
