/**
 * Generates a value that satisfies a JSON schema, deterministically from a
 * PRNG: the fake vendor's answer to `response_format: json_schema` and to tool
 * calls. Covers what structured-output schemas use (objects, arrays, strings
 * with common formats, numbers, integers, booleans, null, enum, const,
 * anyOf/oneOf/allOf, local `$ref`s, minItems/maxItems, minLength/maxLength,
 * minimum/maximum). `pattern` and `uniqueItems` are not honoured.
 */
import { pick, randomInt, type Random } from './seeded-random';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
type SchemaNode = Record<string, unknown>;

// Past this depth, optional properties are dropped and arrays shrink to their
// minimum, so recursive schemas terminate.
const MAX_DEPTH = 6;
const WORDS = ['alpha', 'bravo', 'cedar', 'delta', 'ember', 'fjord', 'granite', 'harbor', 'indigo', 'juniper', 'kelp', 'lumen'];

export function generateFromSchema(schema: unknown, random: Random): JsonValue {
  const root = asNode(schema) ?? {};
  return generate(root, root, random, 0);
}

/**
 * A value that fails `schema` in a way a validator notices: the first required
 * property removed, or else the first property given the wrong type.
 */
export function violateSchema(schema: unknown, value: JsonValue): JsonValue {
  const root = asNode(schema) ?? {};
  if (!isObject(value)) return typeof value === 'string' ? 0 : 'not the expected type';
  const broken: { [key: string]: JsonValue } = { ...value };
  const required = Array.isArray(root.required) ? root.required.filter((k): k is string => typeof k === 'string') : [];
  const [firstRequired] = required;
  if (firstRequired !== undefined) {
    delete broken[firstRequired];
    return broken;
  }
  const [firstProperty] = Object.keys(asNode(root.properties) ?? {});
  if (firstProperty !== undefined) {
    broken[firstProperty] = typeof broken[firstProperty] === 'string' ? 12345 : 'wrong type';
    return broken;
  }
  broken['__unexpected__'] = true;
  return broken;
}

function generate(node: SchemaNode, root: SchemaNode, random: Random, depth: number): JsonValue {
  const schema = resolveRef(node, root);
  if ('const' in schema) return toJson(schema.const);
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return toJson(pick(random, schema.enum));
  const variants = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(variants) && variants.length > 0) {
    const nodes = variants.map(asNode).filter((v): v is SchemaNode => v !== undefined);
    const nonNull = nodes.filter((v) => v.type !== 'null');
    const choices = depth >= MAX_DEPTH || nonNull.length === 0 ? nodes : nonNull;
    return generate(pick(random, choices), root, random, depth);
  }
  if (Array.isArray(schema.allOf)) return generate(mergeAllOf(schema, root), root, random, depth);
  switch (typeOf(schema, depth)) {
    case 'object':
      return generateObject(schema, root, random, depth);
    case 'array':
      return generateArray(schema, root, random, depth);
    case 'integer':
      return generateInteger(schema, random);
    case 'number':
      return generateNumber(schema, random);
    case 'boolean':
      return random() < 0.5;
    case 'null':
      return null;
    default:
      return generateString(schema, random);
  }
}

function typeOf(schema: SchemaNode, depth: number): string {
  const { type } = schema;
  if (typeof type === 'string') return type;
  if (Array.isArray(type)) {
    const types = type.filter((t): t is string => typeof t === 'string');
    if (depth >= MAX_DEPTH && types.includes('null')) return 'null';
    return types.find((t) => t !== 'null') ?? 'null';
  }
  if (schema.properties !== undefined) return 'object';
  if (schema.items !== undefined || schema.prefixItems !== undefined) return 'array';
  return 'string';
}

function generateObject(schema: SchemaNode, root: SchemaNode, random: Random, depth: number): JsonValue {
  const properties = asNode(schema.properties) ?? {};
  const required = new Set(Array.isArray(schema.required) ? schema.required : []);
  const result: { [key: string]: JsonValue } = {};
  for (const [key, child] of Object.entries(properties)) {
    if (depth >= MAX_DEPTH && !required.has(key)) continue;
    result[key] = generate(asNode(child) ?? {}, root, random, depth + 1);
  }
  return result;
}

function generateArray(schema: SchemaNode, root: SchemaNode, random: Random, depth: number): JsonValue {
  const prefix = Array.isArray(schema.prefixItems) ? schema.prefixItems : [];
  const items = asNode(schema.items) ?? {};
  const minItems = Math.max(numberField(schema, 'minItems') ?? 0, prefix.length);
  const maxItems = numberField(schema, 'maxItems') ?? Math.max(minItems, 3);
  const length = depth >= MAX_DEPTH ? minItems : Math.min(maxItems, Math.max(minItems, randomInt(random, 1, 3)));
  const result: JsonValue[] = [];
  for (let i = 0; i < length; i++) {
    result.push(generate(asNode(prefix[i]) ?? items, root, random, depth + 1));
  }
  return result;
}

function generateInteger(schema: SchemaNode, random: Random): number {
  const exclusiveMin = numberField(schema, 'exclusiveMinimum');
  const exclusiveMax = numberField(schema, 'exclusiveMaximum');
  const min = Math.ceil(numberField(schema, 'minimum') ?? (exclusiveMin !== undefined ? exclusiveMin + 1 : 0));
  const max = Math.floor(numberField(schema, 'maximum') ?? (exclusiveMax !== undefined ? exclusiveMax - 1 : min + 100));
  return randomInt(random, min, Math.max(min, max));
}

function generateNumber(schema: SchemaNode, random: Random): number {
  const exclusiveMin = numberField(schema, 'exclusiveMinimum');
  const exclusiveMax = numberField(schema, 'exclusiveMaximum');
  const min = numberField(schema, 'minimum') ?? exclusiveMin ?? 0;
  const max = numberField(schema, 'maximum') ?? exclusiveMax ?? min + 100;
  const value = Math.round((min + random() * (max - min)) * 100) / 100;
  // Rounding may land on an excluded bound; the midpoint never does.
  const excluded = (exclusiveMin !== undefined && value <= exclusiveMin) || (exclusiveMax !== undefined && value >= exclusiveMax);
  return excluded || value < min || value > max ? (min + max) / 2 : value;
}

function generateString(schema: SchemaNode, random: Random): string {
  const word = pick(random, WORDS);
  let text: string;
  switch (schema.format) {
    case 'date-time':
      text = new Date(Date.UTC(2024, randomInt(random, 0, 11), randomInt(random, 1, 28), randomInt(random, 0, 23))).toISOString();
      break;
    case 'date':
      text = `2024-${pad2(randomInt(random, 1, 12))}-${pad2(randomInt(random, 1, 28))}`;
      break;
    case 'email':
      text = `${word}@example.com`;
      break;
    case 'uri':
    case 'url':
      text = `https://example.com/${word}`;
      break;
    case 'uuid':
      text = uuidFrom(random);
      break;
    default:
      text = randomInt(random, 0, 1) === 0 ? word : `${word} ${pick(random, WORDS)}`;
  }
  const minLength = numberField(schema, 'minLength') ?? 0;
  const maxLength = numberField(schema, 'maxLength');
  while (text.length < minLength) text += ` ${pick(random, WORDS)}`;
  return maxLength === undefined ? text : text.slice(0, maxLength);
}

function mergeAllOf(schema: SchemaNode, root: SchemaNode): SchemaNode {
  const { allOf, ...rest } = schema;
  const parts = (Array.isArray(allOf) ? allOf : []).map((p) => resolveRef(asNode(p) ?? {}, root));
  let merged: SchemaNode = rest;
  const properties: SchemaNode = { ...asNode(rest.properties) };
  const required = new Set<unknown>(Array.isArray(rest.required) ? rest.required : []);
  for (const part of parts) {
    merged = { ...merged, ...part };
    Object.assign(properties, asNode(part.properties));
    if (Array.isArray(part.required)) part.required.forEach((r) => required.add(r));
  }
  return Object.keys(properties).length === 0 ? merged : { ...merged, properties, required: [...required] };
}

/** Follows `#/...` references within the root schema (e.g. `#/$defs/Item`). */
function resolveRef(node: SchemaNode, root: SchemaNode): SchemaNode {
  let current = node;
  for (let hops = 0; typeof current.$ref === 'string' && hops < 32; hops++) {
    const ref: string = current.$ref;
    if (!ref.startsWith('#')) return {};
    let target: unknown = root;
    for (const segment of ref.slice(1).split('/').filter(Boolean)) {
      target = asNode(target)?.[segment.replace(/~1/g, '/').replace(/~0/g, '~')];
    }
    current = asNode(target) ?? {};
  }
  return current;
}

function uuidFrom(random: Random): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function numberField(schema: SchemaNode, key: string): number | undefined {
  const value = schema[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function asNode(value: unknown): SchemaNode | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as SchemaNode) : undefined;
}

function isObject(value: JsonValue): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Schema literals (`const`, `enum`) are JSON already; anything else becomes null. */
function toJson(value: unknown): JsonValue {
  if (value === null || typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(toJson);
  const node = asNode(value);
  if (node === undefined) return null;
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, toJson(v)]));
}
