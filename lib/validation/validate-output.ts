import type { JsonSchema } from '../../schemas/llm';
import {
  defaultBoundsByKind,
  type LengthBounds,
  OutputValidation,
  type OutputValidationInput,
  type ValidationFailure,
  type ValidationResult,
} from '../../schemas/validation';
import { checkJsonSchema } from './json-schema';
import { countChars, countWords } from './text-length';

/** A validator registered in code: returns a reason when the answer is unacceptable, null when it is fine. Must be deterministic. */
export type CustomValidator = (text: string) => string | null;

export interface ValidateOutputOptions {
  /** The request's structured-output schema; when given the answer must be JSON matching it. Default none. */
  schema?: JsonSchema;
  /** Validators by name, referenced by `OutputValidation.validator`. Default none. */
  customValidators?: Readonly<Record<string, CustomValidator>>;
}

/** `validator` names a function nobody registered: a deployment bug, so it fails loudly instead of burning repair attempts. */
export class UnknownValidatorError extends Error {
  override readonly name = 'UnknownValidatorError';
  constructor(readonly validator: string) {
    super(`custom validator "${validator}" is not registered`);
  }
}

/** True when `error` is an UnknownValidatorError, also across sandbox and jest module registries. */
export function isUnknownValidatorError(error: unknown): error is UnknownValidatorError {
  return error instanceof Error && error.name === 'UnknownValidatorError';
}

/** The kind's default bounds with the explicitly configured fields laid over them. */
export function resolveBounds(config: OutputValidationInput): LengthBounds {
  const { contentKind, bounds } = OutputValidation.parse(config);
  const merged: LengthBounds = { ...defaultBoundsByKind[contentKind] };
  for (const [field, value] of Object.entries(bounds ?? {}) as Array<[keyof LengthBounds, number | undefined]>) {
    if (value !== undefined) merged[field] = value;
  }
  return merged;
}

function checkLength(text: string, bounds: LengthBounds): ValidationFailure[] {
  const failures: ValidationFailure[] = [];
  const chars = countChars(text);
  const words = countWords(text);
  if (bounds.maxChars !== undefined && chars > bounds.maxChars) {
    failures.push({ rule: 'max_chars', actual: chars, limit: bounds.maxChars, message: `${chars} characters, at most ${bounds.maxChars} allowed` });
  }
  if (bounds.minChars !== undefined && chars < bounds.minChars) {
    failures.push({ rule: 'min_chars', actual: chars, limit: bounds.minChars, message: `${chars} characters, at least ${bounds.minChars} required` });
  }
  if (bounds.maxWords !== undefined && words > bounds.maxWords) {
    failures.push({ rule: 'max_words', actual: words, limit: bounds.maxWords, message: `${words} words, at most ${bounds.maxWords} allowed` });
  }
  if (bounds.minWords !== undefined && words < bounds.minWords) {
    failures.push({ rule: 'min_words', actual: words, limit: bounds.minWords, message: `${words} words, at least ${bounds.minWords} required` });
  }
  return failures;
}

function checkJson(text: string, schema: JsonSchema | undefined): ValidationFailure[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const fenced = /^\s*```/.test(text);
    const reason = fenced ? 'wrapped in a Markdown code fence' : (error as Error).message;
    return [{ rule: 'json_parse', message: `not valid JSON: ${reason}` }];
  }
  return schema ? checkJsonSchema(value, schema) : [];
}

/**
 * Checks an answer against its route's or feature's validation config and
 * returns every failure, so one repair instruction can name them all. An empty
 * answer stops at `non_empty`; JSON that does not parse skips the schema.
 * Deterministic and free of I/O: safe in workflow code. Throws
 * UnknownValidatorError and OutputSchemaError for configuration mistakes.
 */
export function validateOutput(text: string, config: OutputValidationInput, options: ValidateOutputOptions = {}): ValidationResult {
  const parsed = OutputValidation.parse(config);
  if (parsed.nonEmpty && text.trim() === '') {
    return { ok: false, failures: [{ rule: 'non_empty', message: 'the answer is empty' }] };
  }
  const failures = checkLength(text, resolveBounds(parsed));
  if (parsed.json || options.schema) failures.push(...checkJson(text, options.schema));
  if (parsed.validator !== undefined) {
    const registry = options.customValidators ?? {};
    const validator = Object.hasOwn(registry, parsed.validator) ? registry[parsed.validator] : undefined;
    if (!validator) throw new UnknownValidatorError(parsed.validator);
    const reason = validator(text);
    if (reason !== null) failures.push({ rule: 'custom', message: reason });
  }
  return failures.length === 0 ? { ok: true } : { ok: false, failures };
}
