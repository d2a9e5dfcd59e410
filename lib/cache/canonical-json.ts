// One spelling per JSON value, so equal requests hash equally whatever order
// their objects' keys were written in.

/**
 * JSON with object keys sorted (by UTF-16 code units, like Array.prototype.sort)
 * at every depth; `undefined` object members are dropped and `undefined`
 * array items become null, as JSON.stringify does. No whitespace.
 */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, member]) => member !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, member]) => `${JSON.stringify(key)}:${canonicalJson(member)}`).join(',')}}`;
}
