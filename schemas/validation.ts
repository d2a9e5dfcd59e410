import { z } from 'zod';
import { CONTENT_KINDS, PII_KINDS } from './workflow-safe';

// Configuration for the pure modules of output validation, PII masking and
// caching (lib/validation, lib/pii, lib/cache). Each block is declared per
// route or feature in the config file and parsed once at start-up; every type
// here is plain JSON so it crosses Temporal activity boundaries unchanged.

/** What an answer is, for length bounds: a button and a paragraph have different limits. */
export const ContentKind = z.enum(CONTENT_KINDS);
export type ContentKind = z.infer<typeof ContentKind>;

const count = z.number().int().nonnegative();

/** Inclusive length bounds. Characters are Unicode code points of the trimmed answer; words as in docs/pii-validation-cache.md. */
export const LengthBounds = z.object({
  minChars: count.optional(),
  maxChars: count.optional(),
  minWords: count.optional(),
  maxWords: count.optional(),
});
export type LengthBounds = z.infer<typeof LengthBounds>;

/**
 * Default bounds per content kind, chosen from UI copy conventions: buttons
 * are a verb phrase, headings a line, titles fit a browser tab or search
 * result (~60–70 chars), paragraphs a short block. `free` has no bounds.
 */
export const defaultBoundsByKind: Readonly<Record<ContentKind, LengthBounds>> = {
  button: { maxWords: 4, maxChars: 30 },
  heading: { maxWords: 12, maxChars: 90 },
  title: { maxWords: 10, maxChars: 70 },
  paragraph: { maxWords: 150, maxChars: 1_000 },
  free: {},
};

export const OutputValidation = z.object({
  /** The trimmed answer must not be empty. Default true. */
  nonEmpty: z.boolean().default(true),
  /** Picks default length bounds from `defaultBoundsByKind`. Default `free` (no bounds). */
  contentKind: ContentKind.default('free'),
  /** Explicit bounds; each given field overrides the kind's default for that field. Default none. */
  bounds: LengthBounds.optional(),
  /** The answer must parse as JSON. A structured-output schema, when the request has one, is checked whether or not this is set. Default false. */
  json: z.boolean().default(false),
  /** Name of a custom validator registered in code (`customValidators`). Default none. */
  validator: z.string().min(1).optional(),
  /** Repair retries (same vendor, with a repair instruction) before moving to the next vendor in the route. Default 2. */
  repairAttempts: z.number().int().min(0).max(10).default(2),
  /** Ask a model "are you sure?" about a valid answer before accepting it. Default false. */
  secondLook: z.boolean().default(false),
});
export type OutputValidation = z.infer<typeof OutputValidation>;
export type OutputValidationInput = z.input<typeof OutputValidation>;

export const ValidationRule = z.enum(['non_empty', 'max_chars', 'min_chars', 'max_words', 'min_words', 'json_parse', 'json_schema', 'custom']);
export type ValidationRule = z.infer<typeof ValidationRule>;

export const ValidationFailure = z.object({
  rule: ValidationRule,
  message: z.string(),
  /** Where in the JSON answer (`$.items[2].name`), for `json_schema`. */
  path: z.string().optional(),
  /** The measured value (chars or words), for length rules. */
  actual: z.number().optional(),
  /** The bound that was crossed, for length rules. */
  limit: z.number().optional(),
});
export type ValidationFailure = z.infer<typeof ValidationFailure>;

export const ValidationResult = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true) }),
  z.object({ ok: z.literal(false), failures: z.array(ValidationFailure).min(1) }),
]);
export type ValidationResult = z.infer<typeof ValidationResult>;

export const PiiKind = z.enum(PII_KINDS);
export type PiiKind = z.infer<typeof PiiKind>;

export const CustomPiiPattern = z
  .object({
    /** Becomes the placeholder label, upper-cased: `employee_id` → `[[EMPLOYEE_ID_3_<nonce>]]`. */
    name: z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,31}$/, 'a letter, then letters, digits or _, at most 32'),
    /** Regular expression source, JavaScript syntax. */
    pattern: z.string().min(1),
    /** Regular expression flags from `imsuv` (`g` is implied). Default none. */
    flags: z
      .string()
      .regex(/^[imsuv]*$/, 'flags from imsuv')
      .optional(),
  })
  .superRefine((custom, ctx) => {
    try {
      if (new RegExp(custom.pattern, custom.flags).test('')) {
        ctx.addIssue({ code: 'custom', path: ['pattern'], message: 'must not match the empty string' });
      }
    } catch (error) {
      ctx.addIssue({ code: 'custom', path: ['pattern'], message: `not a valid regular expression: ${(error as Error).message}` });
    }
  });
export type CustomPiiPattern = z.infer<typeof CustomPiiPattern>;

export const PiiConfig = z.object({
  /** Mask before any vendor sees the prompt. Default true. */
  enabled: z.boolean().default(true),
  /** Built-in detectors to run. Default all. */
  kinds: z.array(PiiKind).default([...PiiKind.options]),
  /** Extra patterns, e.g. internal customer numbers. Default none. */
  custom: z.array(CustomPiiPattern).default([]),
  /** Whether the interaction log stores the masked or the raw text. Default `masked`. */
  logMode: z.enum(['masked', 'raw']).default('masked'),
});
export type PiiConfig = z.infer<typeof PiiConfig>;
export type PiiConfigInput = z.input<typeof PiiConfig>;

/** One masked value of one request: plain data, so it crosses activity boundaries. */
export const PiiEntity = z.object({
  /** A built-in kind or a custom pattern's name. */
  kind: z.string(),
  /** The exact text that replaced `value` in the prompt. */
  placeholder: z.string(),
  value: z.string(),
});
export type PiiEntity = z.infer<typeof PiiEntity>;

export const CacheConfig = z.object({
  exact: z
    .object({
      /** Look up and store exact answers. Default true. */
      enabled: z.boolean().default(true),
      /** Time to live of a stored answer. Default 1 h. */
      ttlMs: z.number().int().positive().default(3_600_000),
    })
    .prefault({}),
  semantic: z
    .object({
      /** Serve answers to near-identical prompts. Opt-in; default false. */
      enabled: z.boolean().default(false),
      /** Minimum cosine similarity for a hit. Default 0.95. */
      threshold: z.number().min(0).max(1).default(0.95),
      /** Longest user prompt (chars) eligible for the semantic cache. Default 500. */
      maxPromptChars: z.number().int().positive().default(500),
      /** `local` (deterministic, no model download) or `vendor` (an OpenAI-protocol provider's embeddings API). Default `local`. */
      embedder: z.enum(['local', 'vendor']).default('local'),
      /** With `vendor`: the provider whose pool embeds (its first upstream). Default: the first OpenAI-protocol provider. */
      embeddingProvider: z.string().min(1).optional(),
      /** With `vendor`: the embeddings model. Default `text-embedding-3-small`. */
      embeddingModel: z.string().min(1).default('text-embedding-3-small'),
    })
    .prefault({}),
});
export type CacheConfig = z.infer<typeof CacheConfig>;
export type CacheConfigInput = z.input<typeof CacheConfig>;
