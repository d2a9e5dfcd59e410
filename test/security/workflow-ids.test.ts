/**
 * Workflow ids that no two (tenant, key) pairs share: a property over random
 * tenants and keys with `-`, `/`, `:` and unicode, the attack pair,
 * and chain step ids that stay apart from every other chain's.
 */
import fc from 'fast-check';
import { streamSubject } from '../../lib/nats/stream-chunks';
import { callWorkflowId, chainCallWorkflowId, chainWorkflowId, tenantScopedKey } from '../../contracts/names';

const never = () => {
  throw new Error('a keyed id must not draw a fresh id');
};
/** Strings built from the characters a separator-joined id would confuse, plus any unicode. */
const part = fc.oneof(
  fc.string({ unit: fc.constantFrom('-', '/', ':', 'a', 'e', '1', 'é', '東', '🙂'), minLength: 1, maxLength: 12 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }),
);

/** Reads `<len>:<tenant>:<len>:<key>` back: the encoding is injective iff this recovers both parts. */
function readScopedKey(scoped: string): [string, string] {
  const read = (from: number): [string, number] => {
    const colon = scoped.indexOf(':', from);
    const length = Number(scoped.slice(from, colon));
    return [scoped.slice(colon + 1, colon + 1 + length), colon + 1 + length + 1];
  };
  const [tenant, next] = read(0);
  const [key, end] = read(next);
  if (end - 1 !== scoped.length) throw new Error(`trailing text in ${scoped}`);
  return [tenant, key];
}

describe('workflow ids', () => {
  it('keep the issue’s pair apart: acme + eu-inv-7 is not acme-eu + inv-7', () => {
    expect(callWorkflowId('acme', 'eu-inv-7', never)).not.toBe(callWorkflowId('acme-eu', 'inv-7', never));
    expect(chainWorkflowId('acme', 'eu-inv-7', never)).not.toBe(chainWorkflowId('acme-eu', 'inv-7', never));
    expect(callWorkflowId('acme', 'eu-inv-7', never)).toBe('call-4:acme:8:eu-inv-7');
  });

  it('decode back to their tenant and key, for any tenant and key', () => {
    fc.assert(
      fc.property(part, part, (tenant, key) => {
        expect(readScopedKey(tenantScopedKey(tenant, key))).toEqual([tenant, key]);
      }),
      { numRuns: 2_000 },
    );
  });

  it('never map two different (tenant, key) pairs to one id', () => {
    fc.assert(
      fc.property(part, part, part, part, (t1, k1, t2, k2) => {
        fc.pre(t1 !== t2 || k1 !== k2);
        expect(callWorkflowId(t1, k1, never)).not.toBe(callWorkflowId(t2, k2, never));
        expect(chainWorkflowId(t1, k1, never)).not.toBe(chainWorkflowId(t2, k2, never));
      }),
      { numRuns: 2_000 },
    );
  });

  it('never map two splits of one string into tenant and key to one id (the attack’s shape)', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('-', '/', 'a', 'é'), minLength: 2, maxLength: 16 }), fc.nat(), fc.nat(), (text, a, b) => {
        const i = 1 + (a % (text.length - 1));
        const j = 1 + (b % (text.length - 1));
        fc.pre(i !== j);
        expect(callWorkflowId(text.slice(0, i), text.slice(i), never)).not.toBe(callWorkflowId(text.slice(0, j), text.slice(j), never));
      }),
      { numRuns: 2_000 },
    );
  });

  it('keep a chain’s step ids apart from another chain of the tenant whose key extends the first key', () => {
    fc.assert(
      fc.property(part, part, part, fc.constantFrom('outline', 'pages', 'pages/0'), (tenant, key, extra, step) => {
        const chainA = chainWorkflowId(tenant, key, never);
        const chainB = chainWorkflowId(tenant, `${key}/${extra}`, never);
        expect(chainCallWorkflowId(chainA, step, undefined, 0)).not.toBe(chainB);
        expect(chainCallWorkflowId(chainA, step, 0, 0).startsWith(`${chainA}/`)).toBe(true);
      }),
      { numRuns: 1_000 },
    );
  });

  it('map two call ids to two sb.stream subjects, each a single subject token', () => {
    const id = fc.string({ unit: fc.constantFrom('.', '_', '%', '*', '>', ' ', '\t', 'a', '2', 'E'), minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(id, id, (a, b) => {
        fc.pre(a !== b);
        expect(streamSubject(a)).not.toBe(streamSubject(b));
        expect(streamSubject(a).slice('sb.stream.'.length)).toMatch(/^[^.*>\s]+$/);
      }),
      { numRuns: 2_000 },
    );
    expect(streamSubject(callWorkflowId('acme', 'a.b', never))).not.toBe(streamSubject(callWorkflowId('acme', 'a_b', never)));
  });

  it('draw a fresh id without a key, which never has a keyed id’s shape', () => {
    expect(callWorkflowId('acme', undefined, () => 'f00d')).toBe('call-f00d');
    expect(chainWorkflowId('acme', undefined, () => 'f00d')).toBe('chain-f00d');
  });
});
