/**
 * Prompt templates of chain steps: `{{ path }}` placeholders over a scope of
 * `input`, `steps.<id>`, and in fan-out steps `item` and `index`. Strings are
 * inserted as they are, everything else as compact JSON. Pure and free of
 * Node built-ins: the agentChain workflow renders with it, so a replay renders
 * the same prompts.
 */

const placeholder = /\{\{\s*([^{}]*?)\s*\}\}/g;
const wholePlaceholder = /^\{\{\s*([^{}]*?)\s*\}\}$/;
const pathSyntax = /^[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+|\[\d+\])*$/;

/** The roots a template may start from. */
const templateRoots = ['input', 'steps', 'item', 'index'] as const;
export type TemplateRoot = (typeof templateRoots)[number];

export type TemplateScope = Partial<Record<TemplateRoot, unknown>>;

/** A placeholder that cannot be rendered: a bad path, or a value that is not there. */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

export function isTemplateError(error: unknown): error is TemplateError {
  return error instanceof Error && error.name === 'TemplateError';
}

/** `steps.siteMap.pages[2].title` → `['steps', 'siteMap', 'pages', 2, 'title']`; throws TemplateError on bad syntax. */
function parsePath(path: string): Array<string | number> {
  if (!pathSyntax.test(path)) throw new TemplateError(`"{{${path}}}" is not a path (like input.name or steps.siteMap.pages[0])`);
  const segments: Array<string | number> = [];
  for (const match of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    segments.push(match[2] !== undefined ? Number(match[2]) : match[1]!);
  }
  const root = segments[0] as string;
  if (!(templateRoots as readonly string[]).includes(root)) {
    throw new TemplateError(`"{{${path}}}" starts with "${root}"; a path starts with ${templateRoots.join(', ')}`);
  }
  return segments;
}

/** Every path a template names, in order (parsed, so bad syntax throws). */
export function templatePaths(template: string): Array<Array<string | number>> {
  return [...template.matchAll(placeholder)].map((match) => parsePath(match[1]!));
}

/** The value at `path` in `scope`; TemplateError naming the path when any part is missing. */
export function resolvePath(scope: TemplateScope, path: string): unknown {
  const segments = parsePath(path);
  let value: unknown = scope;
  for (const segment of segments) {
    const container = value as Record<string | number, unknown> | null | undefined;
    const next = container !== null && typeof container === 'object' && Object.hasOwn(container, segment) ? container[segment] : undefined;
    if (next === undefined) throw new TemplateError(`"{{${path}}}" has no value (missing at "${String(segment)}")`);
    value = next;
  }
  return value;
}

function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Renders a text template. */
export function renderTemplate(template: string, scope: TemplateScope): string {
  return template.replace(placeholder, (_, path: string) => asText(resolvePath(scope, path)));
}

/**
 * Renders a JSON template (a chain's `result`, a step's output schema): a
 * string that is exactly one placeholder becomes the value itself (a number
 * stays a number, a list a list); other strings are rendered as text.
 */
export function renderJsonTemplate(template: unknown, scope: TemplateScope): unknown {
  if (typeof template === 'string') {
    const whole = wholePlaceholder.exec(template);
    return whole ? resolvePath(scope, whole[1]!) : renderTemplate(template, scope);
  }
  if (Array.isArray(template)) return template.map((entry) => renderJsonTemplate(entry, scope));
  if (template !== null && typeof template === 'object') {
    return Object.fromEntries(Object.entries(template).map(([key, value]) => [key, renderJsonTemplate(value, scope)]));
  }
  return template;
}

/** Every path named anywhere in a JSON template. */
export function jsonTemplatePaths(template: unknown): Array<Array<string | number>> {
  if (typeof template === 'string') return templatePaths(template);
  if (Array.isArray(template)) return template.flatMap(jsonTemplatePaths);
  if (template !== null && typeof template === 'object') return Object.values(template).flatMap(jsonTemplatePaths);
  return [];
}
