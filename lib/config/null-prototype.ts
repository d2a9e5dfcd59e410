/**
 * Config lookups that only find what the config defines: every object of a
 * parsed config (routes, providers, prompts, features, chains, queues,
 * streams, prices …) is rebuilt without a prototype, so a client-chosen key
 * such as `__proto__`, `constructor` or `toString` finds nothing instead of an
 * inherited property of Object.prototype — whichever code does the lookup.
 */

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

/** A deep copy of `value` whose plain objects have no prototype (arrays and other values as they are). */
export function withoutPrototypes<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item: unknown) => withoutPrototypes(item)) as T;
  if (!isPlainObject(value)) return value;
  const copy = Object.create(null) as Record<string, unknown>;
  // On an object without a prototype, assigning `__proto__` makes an own property (there is no inherited setter).
  for (const [key, item] of Object.entries(value)) copy[key] = withoutPrototypes(item);
  return copy as T;
}

/** `record[key]` when `record` itself defines `key`; never an inherited property. */
export function ownEntry<V>(record: Readonly<Record<string, V>>, key: string): V | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
