/**
 * The OpenAI side of the fake vendor: how it authenticates (Bearer key), the
 * headers it sends (`x-request-id`, `x-ratelimit-*`), embeddings and the model
 * list. Chat completions live in `./chat.ts`.
 */
import type { IncomingMessage } from 'node:http';
import { OPENAI_MALFORMED_FRAME } from './chat';
import { openAiStreamError, renderOpenAiError } from './errors';
import { embeddingInputs, OpenAiEmbeddingsRequest } from './wire';
import type { Organisation } from '../organisations';
import { formatResetDuration } from '../rate-limit';
import { createRandom, hashText } from '../seeded-random';
import { countTokens } from '../tokenizer';
import { isVendorError, readCall, type CallContext, type ProtocolAdapter, type VendorCall } from '../vendor-call';
import type { VendorError } from '../vendor-errors';
import { idFactory } from '../vendor-ids';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

export const openAiAdapter: ProtocolAdapter = {
  protocol: 'openai',
  apiKeyOf(req: IncomingMessage) {
    const header = req.headers.authorization;
    return header === undefined ? undefined : BEARER.exec(header)?.[1];
  },
  checkHeaders: () => undefined,
  newRequestId: idFactory('req_', 32),
  vendorHeaders(requestId, organisation) {
    const headers: Record<string, string> = { 'x-request-id': requestId, 'openai-version': '2020-10-01' };
    if (organisation !== undefined) headers['openai-organization'] = organisation.id;
    return headers;
  },
  limitHeaders(snapshot) {
    return {
      'x-ratelimit-limit-requests': String(snapshot.requests.limit),
      'x-ratelimit-limit-tokens': String(snapshot.tokens.limit),
      'x-ratelimit-remaining-requests': String(snapshot.requests.remaining),
      'x-ratelimit-remaining-tokens': String(snapshot.tokens.remaining),
      'x-ratelimit-reset-requests': formatResetDuration(snapshot.requests.resetMs),
      'x-ratelimit-reset-tokens': formatResetDuration(snapshot.tokens.resetMs),
    };
  },
  renderError: renderOpenAiError,
  streamErrorFrame: (status) => `data: ${openAiStreamError(status)}\n\n`,
  malformedFrame: OPENAI_MALFORMED_FRAME,
  contentFreeMalformedFrame: 'data: {"id":"chatcmpl-broken","object":"chat.completion.chu\n\n',
};

/** A unit vector derived from the seed, the model and the text: equal inputs embed equally. */
function embeddingVector(seed: number, model: string, text: string, dimensions: number): Float32Array {
  const random = createRandom(hashText(`${model}\n${text}`, seed));
  const vector = new Float32Array(dimensions);
  let norm = 0;
  for (let i = 0; i < dimensions; i++) {
    const value = random() * 2 - 1;
    vector[i] = value;
    norm += value * value;
  }
  const scale = 1 / Math.sqrt(norm || 1);
  for (let i = 0; i < dimensions; i++) vector[i] = (vector[i] ?? 0) * scale;
  return vector;
}

export function prepareEmbeddings(body: unknown, organisation: Organisation, context: CallContext): VendorCall | VendorError {
  const read = readCall(OpenAiEmbeddingsRequest, body, organisation);
  if (isVendorError(read)) return read;
  const { request, model } = read;
  const inputs = embeddingInputs(request.input);
  const promptText = inputs.join('\n');
  const promptTokens = inputs.reduce((sum, text) => sum + countTokens(text), 0);
  const dimensions = request.dimensions ?? model.embeddingDimensions;
  return {
    model,
    stream: false,
    structured: false,
    promptText,
    promptTokens,
    produce() {
      return {
        completionTokens: 0,
        body() {
          const data = inputs.map((text, index) => {
            const vector = embeddingVector(context.seed, request.model, text, dimensions);
            const embedding = request.encoding_format === 'base64' ? Buffer.from(vector.buffer).toString('base64') : Array.from(vector);
            return { object: 'embedding', index, embedding };
          });
          return JSON.stringify({ object: 'list', data, model: request.model, usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } });
        },
        frames: () => [],
      };
    },
  };
}

const MODEL_CREATED_SECONDS = 1_715_367_049;

export function renderOpenAiModels(organisation: Organisation, modelId?: string): string | undefined {
  const describe = (id: string) => ({ id, object: 'model', created: MODEL_CREATED_SECONDS, owned_by: 'system' });
  if (modelId !== undefined) return organisation.models.has(modelId) ? JSON.stringify(describe(modelId)) : undefined;
  return JSON.stringify({ object: 'list', data: [...organisation.models.keys()].map(describe) });
}
