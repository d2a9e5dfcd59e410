import { z } from 'zod';
import { generateFromSchema, violateSchema } from '../../services/fake-vendor/json-from-schema';
import { createRandom } from '../../services/fake-vendor/seeded-random';

const Page = z.object({
  slug: z.string().min(3).max(12),
  order: z.number().int().min(1).max(9),
  sections: z
    .array(z.enum(['hero', 'faq']))
    .min(2)
    .max(4),
});
const zodSchemas = {
  primitives: z.object({ s: z.string(), n: z.number(), i: z.number().int(), b: z.boolean(), nul: z.null() }),
  bounds: z.object({ score: z.number().gt(0).lt(1), count: z.number().int().gte(10).lte(12), label: z.string().min(20).max(25) }),
  formats: z.object({ at: z.iso.datetime(), day: z.iso.date(), mail: z.email(), id: z.uuid(), site: z.url() }),
  enumsAndLiterals: z.object({ colour: z.enum(['red', 'green']), version: z.literal(2), mode: z.literal('strict') }),
  nested: z.object({ site: z.object({ title: z.string(), pages: z.array(Page).min(3) }) }),
  nullableAndOptional: z.object({ owner: z.string().nullable(), note: z.string().optional(), tags: z.array(z.string()).nullable() }),
  unions: z.object({
    value: z.union([z.string(), z.number()]),
    shape: z.discriminatedUnion('type', [z.object({ type: z.literal('a'), a: z.string() }), z.object({ type: z.literal('b'), b: z.number() })]),
  }),
  tuple: z.object({ point: z.tuple([z.number(), z.number(), z.string()]) }),
  intersection: z.intersection(z.object({ a: z.string() }), z.object({ b: z.number() })),
  recordOfStrings: z.object({ meta: z.record(z.string(), z.string()) }),
  topLevelArray: z.array(z.object({ x: z.boolean() })).min(1),
};

interface Node {
  name: string;
  children: Node[];
}
const Tree: z.ZodType<Node> = z.object({ name: z.string(), children: z.lazy(() => z.array(Tree)) });

describe('generateFromSchema', () => {
  it.each(Object.entries(zodSchemas))('generates values valid for %s, for many seeds', (_name, schema) => {
    const jsonSchema = z.toJSONSchema(schema);
    const validator = z.fromJSONSchema(jsonSchema);
    for (let seed = 0; seed < 40; seed++) {
      const value = generateFromSchema(jsonSchema, createRandom(seed));
      const direct = schema.safeParse(value);
      if (!direct.success) throw new Error(`seed ${seed}: ${JSON.stringify(value)} → ${direct.error.message}`);
      expect(validator.safeParse(value).success).toBe(true);
    }
  });

  it('terminates on recursive schemas ($ref / $defs)', () => {
    const jsonSchema = z.toJSONSchema(z.object({ root: Tree }));
    for (let seed = 0; seed < 20; seed++) {
      expect(z.object({ root: Tree }).safeParse(generateFromSchema(jsonSchema, createRandom(seed))).success).toBe(true);
    }
  });

  it('follows hand-written $refs, allOf and type lists', () => {
    const schema = {
      $defs: { Item: { type: 'object', properties: { id: { type: 'integer', minimum: 5, maximum: 5 } }, required: ['id'] } },
      type: 'object',
      properties: {
        items: { type: 'array', items: { $ref: '#/$defs/Item' }, minItems: 2, maxItems: 2 },
        merged: {
          allOf: [
            { type: 'object', properties: { a: { const: 1 } } },
            { properties: { b: { type: ['string', 'null'] } }, required: ['b'] },
          ],
        },
      },
      required: ['items', 'merged'],
    };
    const value = generateFromSchema(schema, createRandom(1));
    expect(value).toEqual({ items: [{ id: 5 }, { id: 5 }], merged: { a: 1, b: expect.any(String) } });
  });

  it('is deterministic for a seed and varies across seeds', () => {
    const jsonSchema = z.toJSONSchema(zodSchemas.nested);
    expect(generateFromSchema(jsonSchema, createRandom(3))).toEqual(generateFromSchema(jsonSchema, createRandom(3)));
    const distinct = new Set(Array.from({ length: 10 }, (_, seed) => JSON.stringify(generateFromSchema(jsonSchema, createRandom(seed)))));
    expect(distinct.size).toBeGreaterThan(5);
  });
});

describe('violateSchema', () => {
  it('produces a value the schema rejects', () => {
    for (const schema of [zodSchemas.primitives, zodSchemas.nested, zodSchemas.bounds, z.object({ optionalOnly: z.string().optional() }).strict()]) {
      const jsonSchema = z.toJSONSchema(schema);
      const valid = generateFromSchema(jsonSchema, createRandom(9));
      expect(schema.safeParse(violateSchema(jsonSchema, valid)).success).toBe(false);
    }
  });
});
