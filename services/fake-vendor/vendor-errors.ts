/**
 * The failures the fake vendor can answer with, described once without a
 * protocol; `openai/errors.ts` and `anthropic/errors.ts` render each one as
 * that vendor's status and body.
 */
import type { Fault } from '../../schemas/fake-vendor';

export type VendorError =
  | { kind: 'missing_key' }
  | { kind: 'invalid_key'; key: string }
  | { kind: 'missing_version' }
  | { kind: 'invalid_body'; message: string; param?: string }
  | { kind: 'unparseable_body' }
  | { kind: 'body_too_large'; limitBytes: number }
  | { kind: 'route_not_found'; method: string; path: string }
  | { kind: 'model_not_found'; model: string }
  | { kind: 'rate_limited'; scope: 'requests' | 'tokens'; organisation: string; model: string; limit: number; requested: number; retryAfterSeconds?: number }
  | { kind: 'server'; status: number; body: 'vendor' | 'html' | 'empty'; message?: string }
  | { kind: 'account_locked'; reason: Extract<Fault, { kind: 'account_locked' }>['reason']; organisation: string; model: string }
  | { kind: 'context_length'; model: string; contextTokens: number; promptTokens: number }
  | { kind: 'content_policy'; message?: string };

/** A rendered error: what goes on the wire. */
export interface ErrorResponse {
  status: number;
  contentType: string;
  body: string;
}

/** What a load balancer in front of the vendor answers with when the backend is gone. */
function htmlErrorPage(status: number): string {
  const title = status === 502 ? '502 Bad Gateway' : status === 503 ? '503 Service Temporarily Unavailable' : `${status} Error`;
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n`;
}

/** A load balancer's reply, or the vendor's own JSON rendered by `render`. */
export function renderServerError(
  error: Extract<VendorError, { kind: 'server' }>,
  render: (status: number, message: string | undefined) => ErrorResponse,
): ErrorResponse {
  if (error.body === 'html') return { status: error.status, contentType: 'text/html', body: htmlErrorPage(error.status) };
  if (error.body === 'empty') return { status: error.status, contentType: 'text/plain', body: '' };
  return render(error.status, error.message);
}
