/**
 * The contract between a protocol (OpenAI, Anthropic) and the shared request
 * pipeline: a protocol turns a request body into a `VendorCall`, and renders
 * errors and headers its own way; the pipeline does authentication, faults,
 * rate limiting, timing and the request log once for both.
 */
import type { IncomingMessage } from 'node:http';
import type { z } from 'zod';
import type { VendorProtocol } from '../../schemas/fake-vendor';
import { generateAnswer, type Answer, type AnswerRequest } from './answers';
import type { ModelSettings, Organisation } from './organisations';
import type { LimitSnapshot } from './rate-limit';
import type { SseFrame } from './sse';
import type { ErrorResponse, VendorError } from './vendor-errors';

export interface ProducedResponse {
  completionTokens: number;
  /** The non-streaming JSON body. */
  body(): string;
  /** The streamed answer. */
  frames(): SseFrame[];
}

export interface VendorCall {
  model: ModelSettings;
  stream: boolean;
  /** Schema-bound output was asked for, so `invalid_json` applies. */
  structured: boolean;
  promptText: string;
  promptTokens: number;
  /** Builds the answer once faults are known; `invalidJson` spoils a structured one. */
  produce(invalidJson: boolean): ProducedResponse;
}

export interface CallContext {
  seed: number;
  /** Length bounds of generated text answers, in tokens. */
  answerTokens: { min: number; max: number };
  nowMs: number;
}

/** Reads a parsed body in the organisation's terms: a call to serve, or the error to answer with. */
export type PrepareCall = (body: unknown, organisation: Organisation, context: CallContext) => VendorCall | VendorError;

export interface ProtocolAdapter {
  protocol: VendorProtocol;
  /** The API key the request carries, if any. */
  apiKeyOf(req: IncomingMessage): string | undefined;
  /** A protocol-level header check after authentication (Anthropic's `anthropic-version`). */
  checkHeaders(req: IncomingMessage): VendorError | undefined;
  newRequestId(): string;
  /** Headers every response carries: request id and the vendor's own. */
  vendorHeaders(requestId: string, organisation: Organisation | undefined): Record<string, string>;
  limitHeaders(snapshot: LimitSnapshot, nowMs: number): Record<string, string>;
  renderError(error: VendorError): ErrorResponse;
  streamErrorFrame(status: number): string;
  malformedFrame: string;
  /** A truncated event that carries no text (`malformed_chunk` with `contentFree`). */
  contentFreeMalformedFrame: string;
}

export function isVendorError<T extends object>(value: T | VendorError): value is VendorError {
  return 'kind' in value;
}

/** `messages.0.content: Invalid input` from zod issues, the way vendors name a bad parameter. */
function describeBodyIssues(issues: readonly { path: PropertyKey[]; message: string }[]): { message: string; param?: string } {
  const [first] = issues;
  if (first === undefined) return { message: 'Invalid request body.' };
  const param = first.path.map(String).join('.');
  return param === '' ? { message: first.message } : { message: `${param}: ${first.message}`, param };
}

/** The body read with the dialect's schema, and the organisation's settings for the model it names: or the error to answer with. */
export function readCall<T extends { model: string }>(
  schema: z.ZodType<T>,
  body: unknown,
  organisation: Organisation,
): { request: T; model: ModelSettings } | VendorError {
  const parsed = schema.safeParse(body);
  if (!parsed.success) return { kind: 'invalid_body', ...describeBodyIssues(parsed.error.issues) };
  const model = organisation.models.get(parsed.data.model);
  if (model === undefined) return { kind: 'model_not_found', model: parsed.data.model };
  return { request: parsed.data, model };
}

/** The answer to a call, its seed and length bounds from the call's context. */
export function answerFor(context: CallContext, asked: Omit<AnswerRequest, 'seed' | 'minTokens' | 'maxTokens'>): Answer {
  return generateAnswer({ seed: context.seed, minTokens: context.answerTokens.min, maxTokens: context.answerTokens.max, ...asked });
}

/** What a tool's schema is when the request gives none. */
export const EMPTY_TOOL_SCHEMA = { type: 'object', properties: {} };
