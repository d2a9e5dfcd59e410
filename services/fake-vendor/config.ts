/**
 * Loading the fake vendor's configuration: a YAML or JSON file (or an object
 * handed in by a test), validated by zod once at start-up; a bad file stops
 * start-up with a message naming the field.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { FakeVendorConfig, ScenarioFile, ScenarioSteps, type ScenarioStep } from '../../schemas/fake-vendor';

export class FakeVendorConfigError extends Error {
  override readonly name = 'FakeVendorConfigError';
}

export function isFakeVendorConfigError(error: unknown): error is FakeVendorConfigError {
  return error instanceof Error && error.name === 'FakeVendorConfigError';
}

/** `organisations.0.keys.1.key: Too small ...; defaults.ttftMs: ...` */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`).join('; ');
}

export function parseFakeVendorConfig(input: unknown, source = 'fake vendor config'): FakeVendorConfig {
  const parsed = FakeVendorConfig.safeParse(input);
  if (!parsed.success) throw new FakeVendorConfigError(`${source} is invalid: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

function readStructuredFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new FakeVendorConfigError(`cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  try {
    // YAML is a superset of JSON, so one parser reads both.
    return parseYaml(text);
  } catch (error) {
    throw new FakeVendorConfigError(`${path} is not valid YAML/JSON: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

export function loadFakeVendorConfigFile(path: string): FakeVendorConfig {
  return parseFakeVendorConfig(readStructuredFile(path), path);
}

/**
 * Steps from `{ steps: [...] }` or a bare list. The shape is chosen before
 * parsing (not with a zod union) so errors name the field, not "Invalid input".
 */
export function readScenario(input: unknown): { ok: true; steps: ScenarioStep[] } | { ok: false; problem: string } {
  const parsed = Array.isArray(input) ? ScenarioSteps.safeParse(input) : ScenarioFile.transform((file) => file.steps).safeParse(input);
  return parsed.success ? { ok: true, steps: parsed.data } : { ok: false, problem: describeIssues(parsed.error) };
}

export function loadScenarioFile(path: string): ScenarioStep[] {
  const read = readScenario(readStructuredFile(path));
  if (!read.ok) throw new FakeVendorConfigError(`${path} is invalid: ${read.problem}`);
  return read.steps;
}
