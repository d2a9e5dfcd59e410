import { checkRequestSchemas, exceedsJsonBounds, MAX_SCHEMA_DEPTH } from '../../lib/validation/request-schemas';
import { LlmRequest } from '../../schemas/llm';
import { wireParamName } from '../../services/gateway/param-names';

function nested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

describe('request schema checks at the boundary', () => {
  it.each([
    ['flat', { type: 'object' }, undefined],
    ['at the depth bound', nested(MAX_SCHEMA_DEPTH - 1), undefined],
    ['past the depth bound', nested(MAX_SCHEMA_DEPTH + 1), `is nested more than ${MAX_SCHEMA_DEPTH} levels deep`],
    ['thousands deep (no stack overflow)', nested(100_000), `is nested more than ${MAX_SCHEMA_DEPTH} levels deep`],
    ['too many values', { enum: Array.from({ length: 30_000 }, (_, i) => i) }, 'has more than 20000 values'],
  ])('bounds: %s', (_, value, expected) => {
    expect(exceedsJsonBounds(value)).toBe(expected);
  });

  it.each([
    ['a valid output schema', { output: { schema: { type: 'object', properties: { a: { type: 'string' } } } } }, []],
    ['an unknown output type', { output: { schema: { type: 'foo' } } }, [['output.schema', /Unsupported type: foo/]]],
    ['a dangling $ref', { output: { schema: { $ref: '#/$defs/missing' } } }, [['output.schema', /Reference not found/]]],
    [
      'an unknown tool type',
      { tools: [{ parameters: { type: 'object', properties: { a: { type: 'strin' } } } }] },
      [['tools.0.parameters', /"strin" is not a JSON Schema type/]],
    ],
    ['a broken tool pattern', { tools: [{ parameters: { type: 'string', pattern: '(' } }] }, [['tools.0.parameters', /is not a regular expression/]]],
    // Vendors accept keywords our checker does not compile: tools are only bounded and checked structurally.
    ['a tool with if/then', { tools: [{ parameters: { type: 'object', if: { required: ['a'] }, then: { required: ['b'] } } }] }, []],
    ['a deep tool', { tools: [{ parameters: nested(5_000) }] }, [['tools.0.parameters', /nested more than/]]],
  ])('%s', (_, request, expected) => {
    const issues = checkRequestSchemas(request as Parameters<typeof checkRequestSchemas>[0]);
    expect(issues.map((i) => i.path.join('.'))).toEqual(expected.map(([path]) => path));
    issues.forEach((issue, i) => expect(issue.message).toMatch(expected[i]![1] as RegExp));
  });

  it('LlmRequest itself refuses the poison schema with the field path', () => {
    const parsed = LlmRequest.safeParse({ route: 'r', messages: [{ role: 'user', content: 'hi' }], output: { name: 'x', schema: { type: 'foo' } } });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.path.join('.'))).toEqual(['output.schema']);
  });

  it.each([
    ['params.maxTokens', 'openai', 'max_completion_tokens'],
    ['params.maxTokens', 'anthropic', 'max_tokens'],
    ['params.topP', 'openai', 'top_p'],
    ['params.stop', 'anthropic', 'stop_sequences'],
    ['output.schema', 'openai', 'response_format.json_schema.schema'],
    ['tools.3.parameters', 'openai', 'tools.3.function.parameters'],
    ['tools.3.parameters', 'anthropic', 'tools.3.input_schema'],
    ['user', 'anthropic', 'metadata.user_id'],
    ['idempotencyKey', 'openai', 'Idempotency-Key'],
    ['messages.0.content', 'openai', 'messages.0.content'],
  ] as const)('%s in %s is %s', (path, dialect, expected) => {
    expect(wireParamName(path, dialect)).toBe(expected);
  });
});
