/**
 * OpenAI chat completions through the official SDK: request shaping here,
 * failures go to classify.ts, streaming deltas to the caller's callback.
 */
import OpenAI from 'openai';
import type { ChatCompletionCreateParamsBase, ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import type { FinishReason, Message, ToolCall } from '../../schemas/llm';
import { namingTimeouts, VendorProtocolError } from './errors';
import { readRateLimit } from './rate-limit-headers';
import { skippingFetch } from './sse-filter';
import { StreamSession } from './stream-session';
import { parseStructuredOutput } from './structured-output';
import type { VendorCallRequest, VendorCallResult, VendorClient, VendorClientOptions } from './types';
import { MAX_EMBEDDING_INPUTS_PER_REQUEST, packEmbeddings } from './embeddings';

function toOpenAiMessage(message: Message): ChatCompletionMessageParam {
  switch (message.role) {
    case 'system':
      return { role: 'system', content: message.content };
    case 'user':
      return { role: 'user', content: message.content };
    case 'assistant':
      return {
        role: 'assistant',
        content: message.content,
        ...(message.toolCalls?.length
          ? { tool_calls: message.toolCalls.map((c) => ({ id: c.id, type: 'function' as const, function: { name: c.name, arguments: c.arguments } })) }
          : {}),
      };
    case 'tool':
      return { role: 'tool', content: message.content, tool_call_id: message.toolCallId };
  }
}

function toFinishReason(reason: string | null | undefined): FinishReason {
  return reason === 'length' || reason === 'tool_calls' || reason === 'content_filter' ? reason : 'stop';
}

function buildBody(request: VendorCallRequest): ChatCompletionCreateParamsBase {
  const tools: ChatCompletionTool[] | undefined = request.tools?.map((t) => ({
    type: 'function',
    function: { name: t.name, ...(t.description ? { description: t.description } : {}), parameters: t.parameters },
  }));
  const choice = request.toolChoice;
  return {
    model: request.model,
    messages: request.messages.map(toOpenAiMessage),
    ...(tools?.length ? { tools } : {}),
    ...(tools?.length && choice ? { tool_choice: typeof choice === 'string' ? choice : { type: 'function' as const, function: { name: choice.name } } } : {}),
    ...(request.output ? { response_format: { type: 'json_schema' as const, json_schema: { name: request.output.name, schema: request.output.schema } } } : {}),
    ...(request.params?.temperature !== undefined ? { temperature: request.params.temperature } : {}),
    ...(request.params?.topP !== undefined ? { top_p: request.params.topP } : {}),
    ...(request.params?.maxTokens !== undefined ? { max_completion_tokens: request.params.maxTokens } : {}),
    ...(request.params?.stop ? { stop: request.params.stop } : {}),
    ...(request.params?.logprobs ? { logprobs: true, ...(request.params.topLogprobs !== undefined ? { top_logprobs: request.params.topLogprobs } : {}) } : {}),
  };
}

export function createOpenAiClient(options: VendorClientOptions): VendorClient {
  const sdk = new OpenAI({
    apiKey: options.apiKey,
    baseURL: options.baseUrl,
    organization: options.organization ?? null,
    project: null,
    maxRetries: 0,
    fetch: skippingFetch,
  });

  async function callOnce(request: VendorCallRequest): Promise<VendorCallResult> {
    const body = buildBody(request);
    const { data, response } = await sdk.chat.completions
      .create({ ...body, stream: false }, { timeout: request.timeoutMs, signal: request.signal })
      .withResponse();
    const choice = data.choices[0];
    if (!choice) throw new VendorProtocolError('malformed_response', 'completion without choices');
    const text = choice.message.content ?? '';
    const toolCalls: ToolCall[] | undefined = choice.message.tool_calls
      ?.filter((c) => c.type === 'function')
      .map((c) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments }));
    return {
      text,
      ...(toolCalls?.length ? { toolCalls } : {}),
      ...(request.output ? { output: parseStructuredOutput(text, request.output.name) } : {}),
      finishReason: toFinishReason(choice.finish_reason),
      usage: { inputTokens: data.usage?.prompt_tokens ?? 0, outputTokens: data.usage?.completion_tokens ?? 0 },
      model: data.model,
      status: response.status,
      rateLimit: readRateLimit('openai', response.headers, Date.now()),
      ...(request.params?.logprobs && choice.logprobs?.content
        ? {
            logprobs: choice.logprobs.content.map((t) => ({
              token: t.token,
              logprob: t.logprob,
              bytes: t.bytes ?? null,
              top: (t.top_logprobs ?? []).map((a) => ({ token: a.token, logprob: a.logprob, bytes: a.bytes ?? null })),
            })),
          }
        : {}),
    };
  }

  async function callStreaming(request: VendorCallRequest): Promise<VendorCallResult> {
    const session = new StreamSession('openai', request);
    let text = '';
    let finish: string | null | undefined;
    let usage: { prompt_tokens: number; completion_tokens: number } | undefined;
    let model = request.model;
    const toolCalls = new Map<number, { id: string; name: string; arguments: string }>();
    await session.read(
      async () => {
        const { data: stream, response } = await sdk.chat.completions
          .create({ ...buildBody(request), stream: true, stream_options: { include_usage: true } }, { timeout: request.timeoutMs, signal: session.signal })
          .withResponse();
        session.opened(response);
        for await (const chunk of stream) {
          session.chunk();
          model = chunk.model || model;
          if (chunk.usage) usage = chunk.usage;
          const choice = chunk.choices[0];
          const delta = choice?.delta;
          if (delta?.content) {
            session.token();
            text += delta.content;
            request.onTextDelta?.(delta.content, model);
          }
          for (const call of delta?.tool_calls ?? []) {
            session.token();
            const current = toolCalls.get(call.index) ?? { id: '', name: '', arguments: '' };
            toolCalls.set(call.index, {
              id: call.id ?? current.id,
              name: call.function?.name ?? current.name,
              arguments: current.arguments + (call.function?.arguments ?? ''),
            });
          }
          if (choice?.finish_reason) finish = choice.finish_reason;
          // The usage chunk comes last; a vendor that then forgets `[DONE]` must not keep us waiting.
          if (finish && usage) break;
          // Usage may never come either: a short grace, then the answer stands without it.
          if (finish) session.finishing();
        }
        if (!finish) throw new VendorProtocolError('stream_interrupted', 'the stream ended before a finish reason');
      },
      () => Boolean(finish),
    );
    return {
      text,
      ...(toolCalls.size ? { toolCalls: [...toolCalls.values()] } : {}),
      ...(request.output ? { output: parseStructuredOutput(text, request.output.name) } : {}),
      finishReason: toFinishReason(finish),
      usage: { inputTokens: usage?.prompt_tokens ?? 0, outputTokens: usage?.completion_tokens ?? 0 },
      model,
      ...session.exchange(),
    };
  }

  /** The inputs in batches of what one request takes; vectors in input order, usage summed. */
  async function callEmbeddings(request: VendorCallRequest): Promise<VendorCallResult> {
    const inputs = request.messages.filter((m) => m.role === 'user').map((m) => m.content);
    const vectors: number[][] = [];
    let inputTokens = 0;
    let model = request.model;
    let status = 200;
    let rateLimit: VendorCallResult['rateLimit'];
    for (let start = 0; start < inputs.length; start += MAX_EMBEDDING_INPUTS_PER_REQUEST) {
      const { data, response } = await sdk.embeddings
        .create(
          {
            model: request.model,
            input: inputs.slice(start, start + MAX_EMBEDDING_INPUTS_PER_REQUEST),
            encoding_format: 'float',
            ...(request.embedding?.dimensions ? { dimensions: request.embedding.dimensions } : {}),
          },
          { timeout: request.timeoutMs, ...(request.signal ? { signal: request.signal } : {}) },
        )
        .withResponse();
      status = response.status;
      rateLimit = readRateLimit('openai', response.headers, Date.now());
      model = data.model || model;
      inputTokens += data.usage?.prompt_tokens ?? 0;
      vectors.push(...[...data.data].sort((a, b) => a.index - b.index).map((d) => d.embedding));
    }
    if (vectors.length !== inputs.length) throw new VendorProtocolError('malformed_response', `${vectors.length} vectors for ${inputs.length} inputs`);
    return { text: '', embeddings: packEmbeddings(vectors), finishReason: 'stop', usage: { inputTokens, outputTokens: 0 }, model, status, rateLimit };
  }

  return {
    protocol: 'openai',
    call: (request) =>
      namingTimeouts(request, () => (request.embedding ? callEmbeddings(request) : request.stream ? callStreaming(request) : callOnce(request))),
    async embed(texts, { model, dimensions, timeoutMs }) {
      const response = await sdk.embeddings.create({ model, input: texts, ...(dimensions ? { dimensions } : {}) }, { timeout: timeoutMs });
      return [...response.data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
    },
  };
}
