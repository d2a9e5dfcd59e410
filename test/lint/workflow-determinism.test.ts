import { execFile } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';

const root = resolve(__dirname, '../..');
const eslintBin = join(dirname(require.resolve('eslint/package.json')), 'bin', 'eslint.js');
const LintReport = z.array(z.object({ messages: z.array(z.object({ ruleId: z.string().nullable(), message: z.string() })) }));

/** Runs the repo's real eslint CLI on `code` as if it were the file at `relativePath`. */
async function lint(code: string, relativePath: string): Promise<string[]> {
  const run = promisify(execFile)(process.execPath, [eslintBin, '--format', 'json', '--stdin', '--stdin-filename', relativePath], { cwd: root });
  run.child.stdin?.end(code);
  const { stdout } = await run.catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '[]' }));
  return LintReport.parse(JSON.parse(stdout)).flatMap((r) => r.messages.map((m) => `${m.ruleId}: ${m.message}`));
}

/**
 * The lint rules that keep workflow code deterministic, exercised on
 * in-memory fixtures placed (virtually) under workflows/.
 */
describe('workflow lint rules', () => {
  const lintWorkflow = (code: string) => lint(code, 'workflows/lint-fixture.ts');

  it('rejects a value import of an activity module', async () => {
    const messages = await lintWorkflow(`import { createProbeActivities } from '../activities/probe';\nexport const x = createProbeActivities;\n`);
    expect(messages).toEqual([expect.stringContaining('Import activities by type only')]);
  });

  it('accepts a type-only import of an activity module', async () => {
    const messages = await lintWorkflow(`import type * as probe from '../activities/probe';\nexport type X = typeof probe;\n`);
    expect(messages).toEqual([]);
  });

  it.each([
    [`import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n`, 'no Node built-ins'],
    [`import { connect } from 'nats';\nexport const c = connect;\n`, 'reach NATS from an activity'],
    [`import pino from 'pino';\nexport const p = pino;\n`, 'Workflows log through'],
    [`import { createVendorClient } from '../lib/vendors';\nexport const c = createVendorClient;\n`, 'must not load I/O modules'],
    [`export const t = setTimeout;\n`, 'Use sleep()'],
  ])('rejects %j', async (code, expected) => {
    const messages = await lintWorkflow(code);
    expect(messages).toEqual([expect.stringContaining(expected)]);
  });

  it('does not apply workflow rules outside workflows/', async () => {
    const messages = await lint(`import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n`, 'activities/lint-fixture.ts');
    expect(messages).toEqual([]);
  });
});

/** The arrow points one way: contracts/ is shared, workflows/ is imported by nobody but the worker's bundler (and tests). */
describe('import direction', () => {
  it.each(['lib/lint-fixture.ts', 'activities/lint-fixture.ts', 'services/lint-fixture.ts'])('rejects workflow code imported from %s', async (path) => {
    const messages = await lint(`import type { llmCall } from '../workflows/llm-call';\nexport type X = typeof llmCall;\n`, path);
    expect(messages).toEqual([expect.stringContaining('from contracts/')]);
  });

  it('accepts the contracts from anywhere, workflow code included', async () => {
    for (const path of ['lib/lint-fixture.ts', 'workflows/lint-fixture.ts']) {
      expect(await lint(`import { failureTypes } from '../contracts/failures';\nexport const f = failureTypes;\n`, path)).toEqual([]);
    }
  });
});
