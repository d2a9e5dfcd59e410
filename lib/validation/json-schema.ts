import { z } from 'zod';
import type { JsonSchema } from '../../schemas/llm';
import type { ValidationFailure } from '../../schemas/validation';

// Structured-output schemas arrive as JSON Schema (what vendors take). zod v4's
// `z.fromJSONSchema` turns them into a zod schema: type (incl. unions of
// types), properties, required, additionalProperties (false or a schema),
// items, prefixItems, enum, const, anyOf/oneOf/allOf, minItems/maxItems,
// minLength/maxLength, pattern, format, minimum/maximum (incl. exclusive),
// multipleOf, local $ref/$defs and recursive `#`. zod marks it
// semi-experimental, so the conversion is wrapped and failures are named.

/** The most issues reported for one answer: enough to repair, short enough for a prompt. */
const maxIssuesReported = 5;

/** A structured-output schema that cannot be checked; a caller's fault (400), not a bad answer. */
export class OutputSchemaError extends Error {
  override readonly name = 'OutputSchemaError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** True when `error` is an OutputSchemaError, also across sandbox and jest module registries. */
export function isOutputSchemaError(error: unknown): error is OutputSchemaError {
  return error instanceof Error && error.name === 'OutputSchemaError';
}

// Compiling is the expensive part; a request's schema object is reused for
// every attempt and repair, so identity is a good cache key.
const compiled = new WeakMap<object, z.ZodType>();

/** Compiles a JSON Schema for checking answers; throws OutputSchemaError when it cannot. Use at the boundary to reject bad requests early. */
export function compileOutputSchema(schema: JsonSchema): z.ZodType {
  const known = compiled.get(schema);
  if (known) return known;
  let checker: z.ZodType;
  try {
    checker = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
  } catch (error) {
    throw new OutputSchemaError(`structured-output schema cannot be checked: ${(error as Error).message}`, { cause: error });
  }
  compiled.set(schema, checker);
  return checker;
}

/** `$.items[2].name` for zod's `['items', 2, 'name']`. */
export function formatJsonPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((out, key) => {
    if (typeof key === 'number') return `${out}[${key}]`;
    const name = String(key);
    return /^[A-Za-z_$][\w$]*$/.test(name) ? `${out}.${name}` : `${out}[${JSON.stringify(name)}]`;
  }, '$');
}

/** Checks a parsed JSON value against the schema; one `json_schema` failure per issue (at most 5). */
export function checkJsonSchema(value: unknown, schema: JsonSchema): ValidationFailure[] {
  const result = compileOutputSchema(schema).safeParse(value);
  if (result.success) return [];
  return result.error.issues.slice(0, maxIssuesReported).map((issue) => ({
    rule: 'json_schema' as const,
    path: formatJsonPath(issue.path),
    message: issue.message,
  }));
}
