/**
 * `POST /v1/embeddings`: one durable llmCall per batch of inputs, through the
 * same admission, pools, breakers, fallbacks, CallEvents, cost and
 * interaction records as chat (inputs masked like prompts; the vectors are
 * never recorded). `model` is a route whose entries name embedding models.
 * Inputs go to the workflow in batches sized by the vectors' size (see
 * inputsPerCall: they must stay inside a Temporal payload); each vendor
 * request takes up to 2048.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { unpackEmbeddings, vectorToBase64 } from '../../lib/vendors/embeddings';
import { promisedDimensions } from '../../schemas/embedding-routes';
import type { LlmRequest, LlmResult } from '../../schemas/llm';
import { admitted, prepare, serverTiming, timedAnswer } from './chat-completions';
import type { GatewayContext } from './context';
import { badRequest, badRequestOfIssues, GatewayError } from './http-errors';
import { sendJson } from './http-io';
import { resultHeaders } from './openai/response';

/**
 * Floats per llmCall: its vectors travel as float32 base64 in its result, one
 * Temporal payload — 196,608 floats are 1 MiB there (the server refuses a
 * payload of 2 MiB: 128 vectors of 3072 floats hung the call).
 */
const EMBEDDING_FLOATS_PER_CALL = 196_608;
/** The vector size assumed when neither the caller nor the route names one (text-embedding-3-large's). */
const ASSUMED_DIMENSIONS = 3_072;

/** Inputs per llmCall for vectors of this size: 128 of 1536, 64 of 3072 (or of an unnamed size). */
function inputsPerCall(dimensions: number | undefined): number {
  return Math.max(1, Math.floor(EMBEDDING_FLOATS_PER_CALL / (dimensions ?? ASSUMED_DIMENSIONS)));
}
/** OpenAI's own limit on inputs per request. */
const MAX_INPUTS = 2_048;

const EmbeddingsBody = z
  .object({
    model: z.string().min(1, 'model (a route name) is required'),
    input: z.union([z.string().min(1), z.array(z.string().min(1)).min(1).max(MAX_INPUTS)]),
    encoding_format: z.enum(['float', 'base64']).default('float'),
    dimensions: z.number().int().positive().max(65_536).optional(),
    user: z.string().optional(),
  })
  .strict();
type EmbeddingsBody = z.infer<typeof EmbeddingsBody>;

function parseBody(raw: unknown): EmbeddingsBody {
  const input = (raw as { input?: unknown } | null)?.input;
  if (Array.isArray(input) && input.some((item) => typeof item !== 'string')) {
    throw badRequest('token arrays are not supported: send the input as text (a string or a list of strings)', 'input', 'invalid_parameter');
  }
  const parsed = EmbeddingsBody.safeParse(raw);
  if (!parsed.success) {
    const unknown = parsed.error.issues.find((i) => i.code === 'unrecognized_keys');
    if (unknown && 'keys' in unknown)
      throw badRequest(`unsupported parameter "${unknown.keys[0]}": embeddings does not know it`, unknown.keys[0], 'unsupported_parameter');
    throw badRequestOfIssues(parsed.error.issues, 'invalid parameter');
  }
  return parsed.data;
}

/** What the route promises: OpenAI-protocol entries only, one vector size across providers. */
interface RouteSizes {
  /** The size every answer must have when the caller names none (`promisedDimensions`). */
  promised?: number | undefined;
  /** The size every entry is asked for (`routes.<r>.embeddingDimensions`). */
  asked?: number | undefined;
  /** The entries span providers: only the promised size can be mixed. */
  spansProviders: boolean;
}

/** The route may serve embeddings (the config checked the routes that declare a size at load; these are the rest). */
function checkRoute(ctx: GatewayContext, route: string): RouteSizes {
  const config = ctx.config.routes[route];
  if (!config) return { spansProviders: false };
  const providers = [...new Set(config.entries.map((e) => e.provider))];
  const anthropic = providers.find((p) => ctx.config.providers[p]?.protocol === 'anthropic');
  if (anthropic)
    throw badRequest(`route "${route}" has an entry on "${anthropic}", an Anthropic provider: Anthropic has no embeddings API`, 'model', 'model_not_found');
  const promised = promisedDimensions(config);
  if (providers.length > 1 && promised === undefined) {
    throw badRequest(
      `route "${route}" falls back across providers (${providers.join(', ')}) without routes.${route}.embeddingDimensions (or every entry's dimensions): vectors of different sizes cannot be mixed`,
      'model',
      'invalid_request',
    );
  }
  return { promised, asked: config.embeddingDimensions, spansProviders: providers.length > 1 };
}

export async function handleEmbeddings(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse): Promise<string> {
  const arrivedAt = performance.now();
  let body: EmbeddingsBody | undefined;
  const request = await prepare(ctx, req, (raw) => {
    body = parseBody(raw);
    const inputs = typeof body.input === 'string' ? [body.input] : body.input;
    return {
      route: body.model,
      messages: inputs.map((content) => ({ role: 'user' as const, content })),
      embedding: {},
      cache: false,
      ...(body.user ? { user: body.user } : {}),
    };
  });
  const sizes = checkRoute(ctx, request.route);
  const fixed = sizes.asked !== undefined || sizes.spansProviders;
  if (fixed && body!.dimensions !== undefined && body!.dimensions !== sizes.promised) {
    throw badRequest(
      `dimensions ${body!.dimensions} differs from the ${sizes.promised} of route "${request.route}" (its entries may fall back to each other only at that size)`,
      'dimensions',
      'invalid_parameter',
    );
  }
  // Asked of every entry: the caller's size, else the route's; answers are checked against what the route promises.
  const askedDimensions = body!.dimensions ?? sizes.asked;
  const dimensions = body!.dimensions ?? sizes.promised;
  const asked: LlmRequest = { ...request, embedding: askedDimensions ? { dimensions: askedDimensions } : {} };

  await admitted(ctx, req, asked, async (finish) => {
    const batches: LlmRequest[] = [];
    const perCall = inputsPerCall(dimensions);
    for (let start = 0; start < asked.messages.length; start += perCall) {
      const part = batches.length;
      batches.push({
        ...asked,
        messages: asked.messages.slice(start, start + perCall),
        ...(asked.idempotencyKey ? { idempotencyKey: `${asked.idempotencyKey}.part-${part}` } : {}),
      });
    }
    const answered = await Promise.all(batches.map((batch) => timedAnswer(ctx, batch)));
    const results = answered.map((a) => a.result);
    const vectors = results.flatMap((result) => unpackResult(result, dimensions));
    const last = results.at(-1)!;
    const inputTokens = results.reduce((sum, r) => sum + r.usage.inputTokens, 0);
    // Admission settles once, with what the whole request spent.
    await finish({ ...last, usage: { inputTokens, outputTokens: 0 }, cached: false });
    sendJson(
      res,
      200,
      {
        object: 'list',
        data: vectors.map((vector, index) => ({
          object: 'embedding',
          index,
          embedding: body!.encoding_format === 'base64' ? vectorToBase64(vector) : Array.from(vector),
        })),
        model: last.model,
        usage: { prompt_tokens: inputTokens, total_tokens: inputTokens },
      },
      { ...resultHeaders(last), ...serverTiming(arrivedAt, Math.max(...answered.map((a) => a.callMs))) },
    );
  });
  return request.route;
}

function unpackResult(result: LlmResult, dimensions: number | undefined): Float32Array[] {
  if (!result.embeddings)
    throw new GatewayError(502, 'api_error', `the route's answer carried no vectors (${result.provider}/${result.model})`, { code: 'bad_upstream_answer' });
  if (dimensions !== undefined && result.embeddings.dimensions !== dimensions) {
    throw new GatewayError(
      502,
      'api_error',
      `${result.provider}/${result.model} answered vectors of ${result.embeddings.dimensions} dimensions, not the ${dimensions} the route promises`,
      { code: 'bad_upstream_answer' },
    );
  }
  return unpackEmbeddings(result.embeddings);
}
