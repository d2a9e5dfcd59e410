import type { RateLimitSnapshot } from '../../schemas/call-event';
import type { Embeddings, FinishReason, TokenLogprob, Message, SamplingParams, StructuredOutput, Tool, ToolCall, Usage } from '../../schemas/llm';

/** One request to one vendor, in Switchboard's shape; adapters translate it to the wire. */
export interface VendorCallRequest {
  model: string;
  /** Final messages: the prompt variant's system prompt and instructions are already applied. */
  messages: Message[];
  tools?: Tool[];
  toolChoice?: 'auto' | 'none' | 'required' | { name: string };
  output?: StructuredOutput;
  params?: SamplingParams;
  /** Stream from the vendor and report each text delta through `onTextDelta`, with the model the vendor says is answering. */
  stream?: boolean;
  onTextDelta?: (delta: string, model: string) => void;
  /** The whole request, headers to last byte. */
  timeoutMs: number;
  /** Streamed only: abandon when no token arrived by then. */
  firstTokenTimeoutMs?: number;
  /** Streamed only: abandon when no chunk arrived for this long. */
  stallTimeoutMs?: number;
  signal?: AbortSignal;
  /** An embeddings call: the user messages' texts are the inputs (OpenAI protocol only). */
  embedding?: { dimensions?: number };
}

export interface VendorCallResult {
  text: string;
  /** An embeddings call's vectors (text is empty). */
  embeddings?: Embeddings;
  /** Token log probabilities, when `params.logprobs` asked for them. */
  logprobs?: TokenLogprob[];
  toolCalls?: ToolCall[];
  /** Parsed structured output, when `output` was asked for. */
  output?: unknown;
  finishReason: FinishReason;
  usage: Usage;
  /** The model the vendor says answered. */
  model: string;
  status: number;
  rateLimit?: RateLimitSnapshot;
  /** Streamed only: ms from sending the request to the first text (or tool) delta. */
  ttftMs?: number;
}

/** Talks to one upstream (one credential at one vendor). SDK retries are off: retries live in the workflow. */
export interface VendorClient {
  readonly protocol: 'openai' | 'anthropic';
  call(request: VendorCallRequest): Promise<VendorCallResult>;
  /** Embeddings (OpenAI protocol only; Anthropic has no embeddings API). */
  embed?(texts: string[], options: { model: string; dimensions?: number; timeoutMs: number }): Promise<number[][]>;
}

export interface VendorClientOptions {
  baseUrl: string;
  apiKey: string;
  organization?: string;
}
