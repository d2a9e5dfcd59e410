/**
 * Deterministic answers: the same seed, model and prompt always give the same
 * answer, so tests can assert content exactly. In-prompt directives in the
 * last user message let a test choose the answer:
 *
 *   [[say:some text]]   the answer is exactly `some text`
 *   [[echo]]            the answer is the last user message, directives removed
 *   [[echo:prompt]]     the answer is the whole prompt text (`role: text` lines)
 *   [[tokens:N]]        the answer is exactly N tokens long
 *   [[tool]] / [[tool:name]]  ask for a tool call (protocols decide when to honour it)
 */
import { generateFromSchema, violateSchema, type JsonValue } from './json-from-schema';
import { createRandom, hashText, pick, randomInt, type Random } from './seeded-random';
import { tokenize } from './tokenizer';

export interface Directives {
  say?: string;
  echo?: 'last' | 'prompt';
  tokens?: number;
  /** `true` for a bare `[[tool]]`, or the tool's name. */
  tool?: true | string;
  /** `[[noprefill]]`: the Anthropic dialect rejects a trailing assistant turn (a model without prefill) with a 400. */
  noPrefill?: boolean;
}

const DIRECTIVE = /\[\[(say|echo|tokens|tool|noprefill)(?::([\s\S]*?))?\]\]/g;

export function parseDirectives(text: string): Directives {
  const directives: Directives = {};
  for (const match of text.matchAll(DIRECTIVE)) {
    const [, name, argument] = match;
    if (name === 'say') directives.say = argument ?? '';
    else if (name === 'echo') directives.echo = argument === 'prompt' ? 'prompt' : 'last';
    else if (name === 'tokens' && argument !== undefined && /^\d+$/.test(argument)) directives.tokens = Number(argument);
    else if (name === 'tool') directives.tool = argument === undefined || argument === '' ? true : argument;
    else if (name === 'noprefill') directives.noPrefill = true;
  }
  return directives;
}

function stripDirectives(text: string): string {
  return text.replace(DIRECTIVE, '').trim();
}

/** How a schema-bound answer is spoiled by the `invalid_json` fault. */
export type SchemaSpoiling = 'none' | 'truncate' | 'violate';

export interface AnswerRequest {
  seed: number;
  model: string;
  /** The whole prompt as the vendor sees it; with the model it seeds the answer. */
  promptText: string;
  lastUserText: string;
  /** Length bounds of a generated text answer, in tokens. */
  minTokens: number;
  maxTokens: number;
  /** `max_tokens` / `max_completion_tokens`: longer answers are cut, finish `length`. */
  cap?: number;
  stop?: readonly string[];
  /** Answer with JSON: valid for `schema`, or any object when `schema` is undefined (json_object mode). */
  json?: { schema: unknown };
  /** Answer with a call of this tool, its arguments valid for `schema`. */
  toolCall?: { name: string; schema: unknown };
  spoiling: SchemaSpoiling;
}

export type FinishReason = 'end' | 'length' | 'stop_sequence' | 'tool_call';

export interface Answer {
  /** Text content, or the tool call's arguments as JSON text. */
  text: string;
  /** `text` split into tokens; streams send one chunk per token. */
  tokens: string[];
  finish: FinishReason;
  stopSequence: string | null;
  toolCall: { name: string; input: JsonValue } | null;
}

const WORDS = [
  'the',
  'vendor',
  'answers',
  'with',
  'a',
  'steady',
  'stream',
  'of',
  'plain',
  'words',
  'while',
  'every',
  'request',
  'travels',
  'through',
  'switchboard',
  'and',
  'comes',
  'back',
  'safely',
  'quiet',
  'routes',
  'carry',
  'signals',
  'across',
  'many',
  'bright',
  'upstreams',
  'patient',
  'workers',
  'keep',
  'their',
  'promises',
  'under',
  'load',
  'clear',
  'results',
  'arrive',
  'on',
  'time',
  'for',
  'each',
  'caller',
  'who',
  'asks',
  'politely',
  'again',
  'today',
];

export function generateAnswer(request: AnswerRequest): Answer {
  const random = createRandom(hashText(`${request.model}\n${request.promptText}`, request.seed));
  const directives = parseDirectives(request.lastUserText);
  if (request.toolCall !== undefined && directives.say === undefined) {
    const value = generateFromSchema(request.toolCall.schema, random);
    const input = request.spoiling === 'violate' ? violateSchema(request.toolCall.schema, value) : value;
    const json = JSON.stringify(input);
    const text = request.spoiling === 'truncate' ? truncateJson(json) : json;
    const capped = capTokens(tokenize(text), request.cap);
    return { ...capped, finish: capped.finish ?? 'tool_call', stopSequence: null, toolCall: { name: request.toolCall.name, input } };
  }
  const full = answerText(request, directives, random);
  const stopped = applyStop(full, request.stop ?? []);
  const capped = capTokens(tokenize(stopped.text), request.cap);
  const finish = capped.finish ?? (stopped.stopSequence !== null ? 'stop_sequence' : 'end');
  return { ...capped, finish, stopSequence: capped.finish === undefined ? stopped.stopSequence : null, toolCall: null };
}

function answerText(request: AnswerRequest, directives: Directives, random: Random): string {
  if (directives.say !== undefined) return directives.say;
  if (directives.echo === 'prompt') return request.promptText;
  if (directives.echo === 'last') return stripDirectives(request.lastUserText);
  if (request.json !== undefined) {
    const value: JsonValue =
      request.json.schema === undefined ? { answer: sentence(random, randomInt(random, 4, 12)) } : generateFromSchema(request.json.schema, random);
    const json = JSON.stringify(value);
    return request.spoiling === 'none' ? json : truncateJson(json);
  }
  if (directives.tokens !== undefined) return tokenize(sentence(random, directives.tokens)).slice(0, directives.tokens).join('');
  const length = randomInt(random, request.minTokens, Math.max(request.minTokens, request.maxTokens));
  return obeyLengthLimit(sentence(random, length), request.lastUserText);
}

/**
 * Like a model that follows instructions: "at most N words" / "at most N
 * characters" in the last user message caps the generated answer (repair
 * prompts say exactly that). Directives above are never capped.
 */
function obeyLengthLimit(text: string, lastUserText: string): string {
  const words = /at most (\d+) words?/i.exec(lastUserText);
  let result = words
    ? text
        .split(/\s+/)
        .slice(0, Math.max(1, Number(words[1])))
        .join(' ')
    : text;
  const chars = /at most (\d+) characters?/i.exec(lastUserText);
  if (chars && result.length > Number(chars[1])) {
    const limit = Math.max(1, Number(chars[1]));
    const cut = result
      .slice(0, limit + 1)
      .split(/\s+/)
      .slice(0, -1)
      .join(' ');
    result = cut.length > 0 ? cut : result.slice(0, limit);
  }
  return result;
}

/** Words from the fixed list until the text holds at least `tokenCount` tokens. */
function sentence(random: Random, tokenCount: number): string {
  if (tokenCount <= 0) return '';
  const first = pick(random, WORDS);
  let text = first.charAt(0).toUpperCase() + first.slice(1);
  let tokens = tokenize(text).length;
  while (tokens < tokenCount) {
    const word = ` ${pick(random, WORDS)}`;
    text += word;
    tokens += tokenize(word).length;
  }
  return `${text}.`;
}

function applyStop(text: string, stop: readonly string[]): { text: string; stopSequence: string | null } {
  let cut = -1;
  let stopSequence: string | null = null;
  for (const sequence of stop) {
    const at = sequence === '' ? -1 : text.indexOf(sequence);
    if (at >= 0 && (cut < 0 || at < cut)) {
      cut = at;
      stopSequence = sequence;
    }
  }
  return cut < 0 ? { text, stopSequence: null } : { text: text.slice(0, cut), stopSequence };
}

function capTokens(tokens: string[], cap: number | undefined): { text: string; tokens: string[]; finish?: 'length' } {
  if (cap === undefined || tokens.length <= cap) return { text: tokens.join(''), tokens };
  const kept = tokens.slice(0, cap);
  return { text: kept.join(''), tokens: kept, finish: 'length' };
}

/** JSON text cut short, the way a truncated generation looks; never parses. */
export function truncateJson(json: string): string {
  const cut = json.slice(0, Math.max(1, Math.floor(json.length * 0.6)));
  try {
    JSON.parse(cut);
    return `${cut} ...`;
  } catch {
    return cut;
  }
}
