/**
 * `${NAME}` and `${NAME:-default}` in a config document's string values,
 * replaced from the environment before the schema sees the document — so one
 * file serves stacks on other ports (`baseUrl: ${FAKE_VENDOR_URL:-http://127.0.0.1:8089}/v1`).
 * Only upper-case variable names match, so chain templates (`{{input.x}}`) and
 * prompt text are left alone; `$${` writes a literal `${`. Secrets stay out
 * of this: keys come only through `apiKeyEnv` / `apiKeyFile`.
 */

/** A `${NAME}` with no value and no default: the message names the field and the variable. */
export class UnsetReferenceError extends Error {
  override readonly name = 'UnsetReferenceError';
  constructor(
    readonly field: string,
    readonly variable: string,
  ) {
    super(`${field}: \${${variable}} is not set in the environment (give it a value, or a default: \${${variable}:-value})`);
  }
}

export function isUnsetReferenceError(error: unknown): error is UnsetReferenceError {
  return error instanceof Error && error.name === 'UnsetReferenceError';
}

const REFERENCE = /\$(\$?)\{([A-Z_][A-Z0-9_]*)(?::-([^}]*))?\}/g;

function expandText(text: string, env: Readonly<Record<string, string | undefined>>, field: string): string {
  return text.replace(REFERENCE, (whole, escaped: string, name: string, fallback: string | undefined) => {
    if (escaped) return whole.slice(1);
    const value = env[name];
    if (value !== undefined && value !== '') return value;
    if (fallback !== undefined) return fallback;
    throw new UnsetReferenceError(field, name);
  });
}

function fieldPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return parent ? `${parent}.${key}` : key;
}

/** A copy of `document` with every reference in its string values replaced; keys are not expanded. */
export function expandEnvReferences(document: unknown, env: Readonly<Record<string, string | undefined>>, field = ''): unknown {
  if (typeof document === 'string') return expandText(document, env, field || '(root)');
  if (Array.isArray(document)) return document.map((item, index) => expandEnvReferences(item, env, fieldPath(field, index)));
  if (document !== null && typeof document === 'object') {
    // fromEntries defines own properties: a `__proto__` key stays a key, never a prototype.
    return Object.fromEntries(Object.entries(document).map(([key, value]) => [key, expandEnvReferences(value, env, fieldPath(field, key))]));
  }
  return document;
}
