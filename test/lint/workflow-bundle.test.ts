import { readFileSync } from 'node:fs';
import { DEFAULT_SELECTION_POLICY, PII_KINDS, CONTENT_KINDS, TRIP_KINDS } from '../../schemas/workflow-safe';
import { SelectionPolicy, TripKind } from '../../schemas/health';
import { ContentKind, PiiConfig, PiiKind, OutputValidation } from '../../schemas/validation';
import { withPiiDefaults } from '../../lib/pii/mask';

/**
 * The worker evaluates every module of the workflow bundle once per workflow
 * run, so what workflow code imports is paid on every call. zod (and the
 * schemas built with it) cost ~15 ms of CPU per call there; workflow code
 * imports schemas as types only and runs zod checks in activities.
 */
describe('workflow bundle', () => {
  const bundle = readFileSync(process.env.SB_TEST_WORKFLOW_BUNDLE!, 'utf8');
  const modules = [...bundle.matchAll(/^\/\*\*\*\/ "([^"]+)"/gm)].map((m) => m[1]!);

  it('lists its modules (so the checks below look at something)', () => {
    expect(modules).toEqual(expect.arrayContaining(['./workflows/llm-call.ts', './workflows/agent-chain.ts']));
  });

  it('carries no zod and no schema module except the zod-free constants', () => {
    expect(modules.filter((id) => /node_modules\/zod\//.test(id))).toEqual([]);
    expect(modules.filter((id) => id.startsWith('./schemas/') && id !== './schemas/workflow-safe.ts')).toEqual([]);
  });

  it('carries no PII detector: masking runs in the prepareCall activity, the workflow only restores', () => {
    expect(modules.filter((id) => id.startsWith('./lib/pii/') && id !== './lib/pii/restore.ts' && id !== './lib/pii/placeholder.ts')).toEqual([]);
  });
});

describe('zod-free defaults agree with the schemas', () => {
  it('has the same enums and defaults', () => {
    expect(SelectionPolicy.parse({})).toEqual(DEFAULT_SELECTION_POLICY);
    expect(PiiKind.options).toEqual([...PII_KINDS]);
    expect(ContentKind.options).toEqual([...CONTENT_KINDS]);
    expect(TripKind.options).toEqual([...TRIP_KINDS]);
    expect(withPiiDefaults({})).toEqual(PiiConfig.parse({}));
    expect(withPiiDefaults({ enabled: false, logMode: 'raw' })).toEqual(PiiConfig.parse({ enabled: false, logMode: 'raw' }));
    const { contentKind, json } = OutputValidation.parse({});
    expect({ contentKind, json }).toEqual({ contentKind: 'free', json: false });
  });
});
