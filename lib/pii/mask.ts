import type { Message } from '../../schemas/llm';
import type { PiiConfig, PiiConfigInput, PiiEntity } from '../../schemas/validation';
import { PII_KINDS } from '../../schemas/workflow-safe';
import { detectPii } from './detect';
import { chooseNonce, formatPlaceholder } from './placeholder';

/** Per-request input to masking. */
export interface PiiMaskContext {
  /** Per-request nonce, /^[a-z][a-z0-9]{3,31}$/ — e.g. `derivePiiNonce(callId)`. */
  nonce: string;
}

export interface PiiMaskResult {
  masked: string;
  /** Every value replaced, by first appearance; pass to `restorePii` / `createStreamRestorer`. */
  entities: PiiEntity[];
  /** The nonce actually used (the given one, extended if a text happened to contain it). */
  nonce: string;
}

export interface PiiMaskedMessages {
  messages: Message[];
  entities: PiiEntity[];
  nonce: string;
}

/** Masks texts one after another with one value → placeholder table, so a value repeated anywhere in a request gets one placeholder. */
class RequestMasker {
  readonly entities: PiiEntity[] = [];
  private readonly byValue = new Map<string, PiiEntity>();

  constructor(
    private readonly config: PiiConfig,
    readonly nonce: string,
  ) {}

  mask(text: string): string {
    let out = '';
    let cursor = 0;
    for (const span of detectPii(text, this.config)) {
      out += text.slice(cursor, span.start) + this.placeholderFor(span.kind, text.slice(span.start, span.end));
      cursor = span.end;
    }
    return out + text.slice(cursor);
  }

  private placeholderFor(kind: string, value: string): string {
    let entity = this.byValue.get(value);
    if (!entity) {
      entity = { kind, value, placeholder: formatPlaceholder(kind, this.entities.length + 1, this.nonce) };
      this.byValue.set(value, entity);
      this.entities.push(entity);
    }
    return entity.placeholder;
  }
}

/**
 * `PiiConfig`'s defaults without zod (this runs in workflow code, where
 * schema construction is paid per run). The config file's `pii` block is
 * validated at start-up; this only fills what was left out.
 */
export function withPiiDefaults(config: PiiConfigInput): PiiConfig {
  return {
    enabled: config.enabled ?? true,
    kinds: config.kinds ?? [...PII_KINDS],
    custom: config.custom ?? [],
    logMode: config.logMode ?? 'masked',
  };
}

/**
 * Replaces e-mails, phone numbers, cards, IBANs, IP addresses, national ids
 * and custom patterns in `text` with placeholders. Deterministic and free of
 * Node built-ins: safe in workflow code. With `enabled: false` the text
 * passes through untouched.
 */
export function maskPii(text: string, config: PiiConfigInput, context: PiiMaskContext): PiiMaskResult {
  const parsed = withPiiDefaults(config);
  const nonce = chooseNonce(context.nonce, [text]);
  if (!parsed.enabled) return { masked: text, entities: [], nonce };
  const masker = new RequestMasker(parsed, nonce);
  return { masked: masker.mask(text), entities: masker.entities, nonce };
}

/** All texts of a message a vendor reads: its content and, for assistant turns, the tool-call arguments. */
function messageTexts(message: Message): string[] {
  return message.role === 'assistant' ? [message.content, ...(message.toolCalls ?? []).map((call) => call.arguments)] : [message.content];
}

/**
 * Masks every message of a request (system, user, assistant — earlier answers
 * were restored for the caller and carry raw values again — and tool results)
 * with one consistent placeholder table.
 */
export function maskMessages(messages: ReadonlyArray<Message>, config: PiiConfigInput, context: PiiMaskContext): PiiMaskedMessages {
  const parsed = withPiiDefaults(config);
  const nonce = chooseNonce(context.nonce, messages.flatMap(messageTexts));
  if (!parsed.enabled) return { messages: [...messages], entities: [], nonce };
  const masker = new RequestMasker(parsed, nonce);
  const masked = messages.map((message): Message => {
    const content = masker.mask(message.content);
    if (message.role !== 'assistant' || !message.toolCalls) return { ...message, content };
    return { ...message, content, toolCalls: message.toolCalls.map((call) => ({ ...call, arguments: masker.mask(call.arguments) })) };
  });
  return { messages: masked, entities: masker.entities, nonce };
}

/** What the interaction log stores for one text, per `PiiConfig.logMode`: the masked text (default) or the raw one. */
export function textForLog(text: { raw: string; masked: string }, config: PiiConfigInput): string {
  const { enabled, logMode } = withPiiDefaults(config);
  return enabled && logMode === 'masked' ? text.masked : text.raw;
}
