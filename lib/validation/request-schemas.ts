/**
 * Checks on the JSON Schemas a request carries (tool parameters, the
 * structured-output schema), made at the boundary — gateway, typed client,
 * chain start — so a schema we could not use never reaches a vendor (paid)
 * and never fails inside an attempt (where it would look like the vendor's
 * fault). Pure; each problem comes back with the path of the field.
 */
import type { JsonSchema } from '../../schemas/llm';
import { compileOutputSchema } from './json-schema';

/** Deepest nesting of objects and arrays a schema may have. Vendors allow far less (OpenAI: 10 levels of properties). */
export const MAX_SCHEMA_DEPTH = 64;
/** Most objects, arrays and values in one schema. */
const MAX_SCHEMA_NODES = 20_000;

const JSON_TYPES: ReadonlySet<string> = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null']);

export interface SchemaIssue {
  path: Array<string | number>;
  message: string;
}

/** Walks the value without recursion (a hostile depth cannot overflow the stack); the first bound it breaks, if any. */
export function exceedsJsonBounds(value: unknown, maxDepth = MAX_SCHEMA_DEPTH, maxNodes = MAX_SCHEMA_NODES): string | undefined {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  let nodes = 0;
  while (stack.length) {
    const { value: node, depth } = stack.pop()!;
    if (++nodes > maxNodes) return `has more than ${maxNodes} values`;
    if (node === null || typeof node !== 'object') continue;
    if (depth >= maxDepth) return `is nested more than ${maxDepth} levels deep`;
    for (const child of Object.values(node)) stack.push({ value: child, depth: depth + 1 });
  }
  return undefined;
}

/** `type` keywords that name no JSON type and `pattern`s that are no regular expression, anywhere in the schema. */
function structuralProblem(schema: unknown): string | undefined {
  const stack: unknown[] = [schema];
  while (stack.length) {
    const node = stack.pop();
    if (node === null || typeof node !== 'object') continue;
    if (!Array.isArray(node)) {
      const record = node as Record<string, unknown>;
      const types = Array.isArray(record.type) ? record.type : record.type === undefined ? [] : [record.type];
      const bad = types.find((t) => typeof t !== 'string' || !JSON_TYPES.has(t));
      if (bad !== undefined) return `"type": ${JSON.stringify(bad)} is not a JSON Schema type (${[...JSON_TYPES].join(', ')})`;
      if (typeof record.pattern === 'string') {
        try {
          new RegExp(record.pattern, 'u');
        } catch {
          return `"pattern": ${JSON.stringify(record.pattern)} is not a regular expression`;
        }
      }
    }
    stack.push(...Object.values(node));
  }
  return undefined;
}

/**
 * Problems of a tool's parameter schema: bounds and structure. Tools are not
 * compiled — we never check their arguments, and vendors accept keywords our
 * checker does not (if/then/else, draft-07 `definitions`).
 */
function checkToolSchema(schema: JsonSchema): string | undefined {
  return exceedsJsonBounds(schema) ?? structuralProblem(schema);
}

/** Problems of a structured-output schema: bounds, and it must compile (every answer is checked against it). */
export function checkOutputSchema(schema: JsonSchema): string | undefined {
  const bound = exceedsJsonBounds(schema);
  if (bound) return `structured-output schema ${bound}`;
  try {
    compileOutputSchema(schema);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Every schema problem of a request, each with its field path (`tools.0.parameters`, `output.schema`). */
export function checkRequestSchemas(request: {
  tools?: ReadonlyArray<{ parameters: JsonSchema }> | undefined;
  output?: { schema: JsonSchema } | undefined;
}): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  request.tools?.forEach((tool, index) => {
    const problem = checkToolSchema(tool.parameters);
    if (problem) issues.push({ path: ['tools', index, 'parameters'], message: `tool parameter schema ${problem}` });
  });
  if (request.output) {
    const problem = checkOutputSchema(request.output.schema);
    if (problem) issues.push({ path: ['output', 'schema'], message: problem });
  }
  return issues;
}
