/**
 * OpenAI parameters the gateway does not carry to the vendor: each one is
 * accepted only when it asks for what happens anyway (its default, e.g.
 * `n: 1`, `frequency_penalty: 0`, `logprobs: false`) and otherwise rejected
 * with a 400 that names it and says why — never silently dropped. A body key
 * that is neither honoured nor listed here is rejected too. The table is
 * documented in docs/gateway.md ("Parameters").
 */
import { badRequest } from '../http-errors';

export interface UnsupportedParam {
  /** Values that ask for the default behaviour, so accepting them changes nothing. */
  harmless: (value: unknown) => boolean;
  why: string;
}

const absentOr =
  (...values: unknown[]) =>
  (value: unknown) =>
    value === null || value === undefined || values.includes(value);

/** Shared by chat completions and responses. */
const common: Record<string, UnsupportedParam> = {
  logprobs: {
    harmless: absentOr(false),
    why: 'logprobs are not returned: a call may be answered by any upstream of the route, including vendors without logprobs',
  },
  top_logprobs: { harmless: absentOr(0), why: 'logprobs are not returned (see logprobs)' },
  parallel_tool_calls: {
    harmless: absentOr(true),
    why: 'turning parallel tool calls off is not carried to the vendors; read the first tool call of the answer instead',
  },
  service_tier: { harmless: absentOr('auto', 'default'), why: 'service tiers are chosen per upstream in the Switchboard config' },
  prompt_cache_key: { harmless: () => true, why: '' },
  safety_identifier: { harmless: () => true, why: '' },
};

export const chatOnlyParams: Record<string, UnsupportedParam> = {
  ...common,
  store: { harmless: absentOr(false), why: 'OpenAI-side storage is not used; Switchboard records every call itself' },
  n: {
    harmless: absentOr(1),
    why: 'one call returns one answer (it may come from a fallback vendor that has no n); send n requests instead, each is its own durable call',
  },
  frequency_penalty: { harmless: absentOr(0), why: 'penalties are not carried to the vendors (Anthropic has none)' },
  presence_penalty: { harmless: absentOr(0), why: 'penalties are not carried to the vendors (Anthropic has none)' },
  logit_bias: {
    harmless: (v) => v === null || v === undefined || (typeof v === 'object' && Object.keys(v).length === 0),
    why: 'logit_bias is vendor- and tokenizer-specific',
  },
  seed: { harmless: absentOr(), why: 'seeds are not carried to the vendors (a fallback vendor would ignore it)' },
  reasoning_effort: { harmless: absentOr(), why: 'reasoning settings are not carried to the vendors' },
  verbosity: { harmless: absentOr(), why: 'verbosity is not carried to the vendors' },
  modalities: {
    harmless: (v) => v === null || v === undefined || (Array.isArray(v) && v.length === 1 && v[0] === 'text'),
    why: 'only text output is supported',
  },
  audio: { harmless: absentOr(), why: 'only text output is supported' },
  prediction: { harmless: absentOr(), why: 'predicted outputs are not carried to the vendors' },
  web_search_options: { harmless: absentOr(), why: 'built-in web search is not supported' },
  functions: { harmless: absentOr(), why: 'the deprecated functions parameter is not supported; use tools' },
  function_call: { harmless: absentOr(), why: 'the deprecated function_call parameter is not supported; use tool_choice' },
};

/**
 * Throws a 400 naming the first parameter of `body` that is neither in
 * `honoured` nor harmless per `table`; returns the body without the harmless
 * extras, ready for the endpoint's own schema.
 */
export function rejectUnsupportedParams(body: unknown, honoured: ReadonlySet<string>, table: Record<string, UnsupportedParam>, what: string): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw badRequest(`the request body must be a JSON object (${what})`, undefined, 'invalid_json');
  const kept: Array<[string, unknown]> = [];
  for (const [key, value] of Object.entries(body)) {
    if (honoured.has(key)) {
      kept.push([key, value]);
      continue;
    }
    const known = Object.hasOwn(table, key) ? table[key] : undefined;
    if (!known) throw badRequest(`unsupported parameter "${key}": ${what} does not know it`, key, 'unsupported_parameter');
    if (!known.harmless(value)) throw badRequest(`unsupported value of "${key}": ${known.why}`, key, 'unsupported_parameter');
  }
  return Object.fromEntries(kept);
}

export const responsesOnlyParams: Record<string, UnsupportedParam> = {
  ...common,
  store: { harmless: () => true, why: '' },
  truncation: {
    harmless: absentOr('disabled'),
    why: 'automatic truncation is not supported; a context-length failure moves to a larger-context route entry instead',
  },
  include: {
    harmless: (v) => v === null || v === undefined || (Array.isArray(v) && v.length === 0),
    why: 'no extra output (reasoning, search results, logprobs) is produced',
  },
  reasoning: { harmless: absentOr(), why: 'reasoning settings are not carried to the vendors' },
  background: {
    harmless: absentOr(false),
    why: 'background responses are not supported; every call is durable anyway (send an Idempotency-Key to pick it up again)',
  },
  max_tool_calls: { harmless: absentOr(), why: 'built-in tools are not supported' },
  prompt: { harmless: absentOr(), why: 'stored prompt templates are not supported; routes choose prompt variants in the config' },
  conversation: { harmless: absentOr(), why: 'conversation objects are not supported; use previous_response_id' },
  stream_options: { harmless: absentOr(), why: 'stream options are not supported on responses' },
};
