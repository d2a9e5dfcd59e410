import { ChainDefinition, type ChainDefinitionInput } from '../../schemas/chain';
import { parseConfig } from '../../lib/config/load';
import { stepDependencies } from '../../lib/chains/definition-check';
import { Slots } from '../../lib/chains/slots';
import { createJsonCheckActivities } from '../../activities/json-check';
import { buildRepairRequest, buildStepRequest, checkStepOutput } from '../../lib/chains/step-request';
import { sitePlannerChain } from '../../lib/chains/site-planner';
import { renderJsonTemplate, renderTemplate } from '../../lib/chains/template';
import { switchboardConfig } from '../harness/switchboard';

const base: ChainDefinitionInput = {
  name: 'two-steps',
  route: 'chat-default',
  steps: [
    {
      id: 'outline',
      prompt: 'Outline {{input.topic}}',
      output: { name: 'outline', schema: { type: 'object', properties: { points: { type: 'array', items: { type: 'string' } } } } },
    },
    { id: 'expand', prompt: 'Expand {{item}} ({{index}}) of {{input.topic}}', forEach: { from: 'steps.outline.points' } },
  ],
};

function issuesOf(definition: ChainDefinitionInput): string[] {
  const parsed = ChainDefinition.safeParse(definition);
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('chain templates', () => {
  it('inserts strings as they are and other values as JSON; a whole placeholder in JSON keeps the value', () => {
    const scope = { input: { topic: 'tea', n: 3, tags: ['a', 'b'] }, steps: { s: { pages: [{ title: 'Home' }] } } };
    expect(renderTemplate('About {{ input.topic }}: {{input.n}} {{input.tags}} {{steps.s.pages[0].title}}', scope)).toBe('About tea: 3 ["a","b"] Home');
    expect(renderJsonTemplate({ minItems: '{{input.n}}', title: 'n={{input.n}}', list: ['{{input.tags}}'] }, scope)).toEqual({
      minItems: 3,
      title: 'n=3',
      list: [['a', 'b']],
    });
  });

  it('names the missing path', () => {
    expect(() => renderTemplate('{{input.nope}}', { input: {} })).toThrow('"{{input.nope}}" has no value (missing at "nope")');
  });
});

describe('chain definitions', () => {
  it('infers dependencies from templates, the fan-out source and `after`', () => {
    const parsed = ChainDefinition.parse({ ...base, steps: [...base.steps, { id: 'sum', prompt: 'Sum', after: ['expand'] }] });
    expect(parsed.steps.map(stepDependencies)).toEqual([[], ['outline'], ['expand']]);
  });

  it.each<[string, ChainDefinitionInput, string]>([
    ['an unknown step', { ...base, steps: [base.steps[0]!, { id: 'x', prompt: '{{steps.nope}}' }] }, 'steps.1.prompt: unknown step "nope" (known: outline, x)'],
    ['item outside a fan-out', { ...base, steps: [{ id: 'x', prompt: '{{item}}' }] }, 'steps.0.prompt: "item" is only defined in a fan-out step'],
    ['a duplicate id', { ...base, steps: [base.steps[0]!, base.steps[0]!] }, 'steps.1.id: duplicate step "outline"'],
    ['a bad root', { ...base, steps: [{ id: 'x', prompt: '{{inputs.a}}' }] }, 'steps.0.prompt: "{{inputs.a}}" starts with "inputs"'],
    [
      'a cycle',
      {
        ...base,
        steps: [
          { id: 'a', prompt: '{{steps.b}}' },
          { id: 'b', prompt: 'x', after: ['a'] },
        ],
      },
      "steps: the steps' dependencies form a cycle: a → b → a",
    ],
  ])('rejects %s, naming the field', (_, definition, expected) => {
    expect(issuesOf(definition).join('\n')).toContain(expected);
  });

  it('a config chain naming an unknown route stops start-up with the field', () => {
    const config = { ...switchboardConfig('http://127.0.0.1:1'), chains: { planner: { route: 'nope', steps: [{ id: 'a', prompt: 'x' }] } } };
    expect(() => parseConfig(config, 'test')).toThrow(/chains\.planner\.route.*unknown route "nope"/);
  });

  it('the site planner is a valid chain whose size follows the input', () => {
    const chain = sitePlannerChain({ route: 'chat-default' });
    expect(chain.steps.map((s) => s.id)).toEqual(['siteMap', 'wireframes', 'launchChecklist']);
    const schema = renderJsonTemplate(chain.steps[0]!.output!.schema, { input: { pageCount: 198 } }) as { properties: { pages: { minItems: number } } };
    expect(schema.properties.pages.minItems).toBe(198);
  });
});

describe('step requests', () => {
  it('renders the request of a fan-out item and, for an output failing its schema, a repair request naming the errors', async () => {
    const { checkJsonValue } = createJsonCheckActivities();
    const definition = ChainDefinition.parse(base);
    const request = buildStepRequest({ definition, step: definition.steps[0]!, scope: { input: { topic: 'tea' } }, tenant: 't1' });
    expect(request).toEqual(
      expect.objectContaining({ route: 'chat-default', feature: 'two-steps.outline', messages: [{ role: 'user', content: 'Outline tea' }] }),
    );
    const failures = await checkStepOutput(request, { points: 'not a list' }, checkJsonValue);
    expect(failures).toEqual([expect.objectContaining({ rule: 'json_schema', path: '$.points' })]);
    const repair = buildRepairRequest(request, '{"points":"not a list"}', failures);
    expect(repair.messages.slice(1)).toEqual([
      { role: 'assistant', content: '{"points":"not a list"}' },
      { role: 'user', content: expect.stringContaining('Your JSON did not match the required schema at $.points') },
    ]);
    expect(await checkStepOutput(request, { points: ['a'] }, checkJsonValue)).toEqual([]);
    expect(await checkStepOutput(request, undefined, checkJsonValue)).toEqual([expect.objectContaining({ rule: 'json_parse' })]);
  });
});

describe('Slots', () => {
  it('never admits more than its capacity and serves waiters in order', async () => {
    const slots = new Slots(2);
    let inFlight = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        slots.run(async () => {
          inFlight += 1;
          peak = Math.max(peak, inFlight);
          order.push(i);
          await Promise.resolve();
          inFlight -= 1;
        }),
      ),
    );
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
  });
});
