/**
 * The admin HTTP API under `/_admin`: faults, scenarios, the request log and
 * health, as JSON. Bad input gets a 400 whose `error` names the problem.
 *
 *   GET    /_admin/health
 *   GET    /_admin/faults                 active rules
 *   POST   /_admin/faults                 a rule or a list of rules → 201 { ids }
 *   DELETE /_admin/faults[?organisation=] → { cleared }
 *   DELETE /_admin/faults/<id>            → { removed }
 *   POST   /_admin/scenario               { steps } or a list → 202 { scheduled }
 *   DELETE /_admin/scenario               cancels pending steps → { cancelled }
 *   GET    /_admin/requests?organisation=&model=&contains=&since=&limit=&includePrompt=
 *   DELETE /_admin/requests
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RequestLogQuery } from '../../schemas/fake-vendor';
import { describeIssues } from './config';
import { BodyTooLargeError, parseJsonText, readBody, sendJson } from './http-exchange';
import { FaultRuleLimitError } from './fault-engine';
import { isAdminInputError, type VendorControl } from './vendor-control';

/** Admin bodies are small; a larger one is a mistake. */
const MAX_ADMIN_BODY_BYTES = 1024 * 1024;

class AdminRequestError extends Error {
  override readonly name = 'AdminRequestError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function readAdminJson(req: IncomingMessage): Promise<unknown> {
  let text: string;
  try {
    text = await readBody(req, MAX_ADMIN_BODY_BYTES);
  } catch (error) {
    if (error instanceof BodyTooLargeError) throw new AdminRequestError(413, `body exceeds ${MAX_ADMIN_BODY_BYTES} bytes`);
    throw error;
  }
  if (text.trim() === '') throw new AdminRequestError(400, 'a JSON body is required');
  const parsed = parseJsonText(text);
  if (!parsed.ok) throw new AdminRequestError(400, 'body is not valid JSON');
  return parsed.value;
}

function requestLogQuery(params: URLSearchParams): RequestLogQuery {
  const raw: Record<string, string | string[]> = {};
  for (const key of new Set(params.keys())) raw[key] = key === 'contains' ? params.getAll(key) : (params.get(key) ?? '');
  const parsed = RequestLogQuery.safeParse(raw);
  if (!parsed.success) throw new AdminRequestError(400, `invalid query: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

async function route(control: VendorControl, req: IncomingMessage, res: ServerResponse, path: string, params: URLSearchParams): Promise<void> {
  const method = req.method ?? 'GET';
  const [, , resource, id] = path.split('/');
  switch (`${method} ${resource ?? ''}${id === undefined ? '' : '/:id'}`) {
    case 'GET health':
      return sendJson(res, 200, control.health());
    case 'GET faults':
      return sendJson(res, 200, { rules: control.listFaults() });
    case 'POST faults':
      return sendJson(res, 201, { ids: control.setFaults(await readAdminJson(req)) });
    case 'DELETE faults': {
      const organisation = params.get('organisation') ?? undefined;
      return sendJson(res, 200, { cleared: control.clearFaults(organisation) });
    }
    case 'DELETE faults/:id':
      return sendJson(res, 200, { removed: control.removeFault(decodeURIComponent(id ?? '')) });
    case 'POST scenario':
      return sendJson(res, 202, { scheduled: control.runScenario(await readAdminJson(req)) });
    case 'DELETE scenario':
      return sendJson(res, 200, { cancelled: control.cancelScenario() });
    case 'GET requests':
      return sendJson(res, 200, control.queryRequests(requestLogQuery(params)));
    case 'DELETE requests':
      control.resetLog();
      return sendJson(res, 200, { reset: true });
    default:
      throw new AdminRequestError(404, `no admin endpoint ${method} ${path}`);
  }
}

export async function serveAdmin(control: VendorControl, req: IncomingMessage, res: ServerResponse, path: string, params: URLSearchParams): Promise<void> {
  try {
    await route(control, req, res, path.replace(/\/+$/, ''), params);
  } catch (error) {
    if (res.headersSent) return;
    if (error instanceof AdminRequestError) sendJson(res, error.status, { error: error.message });
    else if (isAdminInputError(error) || error instanceof FaultRuleLimitError) sendJson(res, 400, { error: error.message });
    else throw error;
  }
}
