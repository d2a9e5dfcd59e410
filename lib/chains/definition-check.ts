/**
 * The rules a chain definition must follow beyond its shape: templates name
 * only known steps, fan-out item paths appear only in fan-out steps, and the
 * dependencies form a DAG. Pure; used by the zod schema (so config and client
 * reject a bad chain with the field's path) and by the workflow's scheduler.
 */
import { isTemplateError, jsonTemplatePaths, templatePaths } from './template';

/** The parts of a step these rules read (the zod-parsed step has more). */
export interface StepShape {
  id: string;
  system?: string | undefined;
  prompt: string;
  output?: { schema: Record<string, unknown> } | undefined;
  forEach?: { from: string } | undefined;
  after?: string[] | undefined;
}

export interface ChainIssue {
  path: Array<string | number>;
  message: string;
}

function referencedSteps(paths: Array<Array<string | number>>): string[] {
  return paths.filter((p) => p[0] === 'steps' && typeof p[1] === 'string').map((p) => p[1] as string);
}

/** Steps this step waits for: those its templates and fan-out source name, plus `after`. */
export function stepDependencies(step: StepShape): string[] {
  const paths = [
    ...templatePaths(step.prompt),
    ...(step.system ? templatePaths(step.system) : []),
    ...(step.output ? jsonTemplatePaths(step.output.schema) : []),
    ...(step.forEach ? templatePaths(`{{${step.forEach.from}}}`) : []),
  ];
  return [...new Set([...referencedSteps(paths), ...(step.after ?? [])])];
}

function checkTemplates(step: StepShape, index: number, known: Set<string>): ChainIssue[] {
  const issues: ChainIssue[] = [];
  const fields: Array<[string, () => Array<Array<string | number>>]> = [
    ['prompt', () => templatePaths(step.prompt)],
    ['system', () => (step.system ? templatePaths(step.system) : [])],
    ['output', () => (step.output ? jsonTemplatePaths(step.output.schema) : [])],
    ['forEach', () => (step.forEach ? templatePaths(`{{${step.forEach.from}}}`) : [])],
  ];
  for (const [field, paths] of fields) {
    const at = ['steps', index, field];
    let found: Array<Array<string | number>>;
    try {
      found = paths();
    } catch (error) {
      if (!isTemplateError(error)) throw error;
      issues.push({ path: at, message: error.message });
      continue;
    }
    for (const path of found) {
      const root = path[0];
      if ((root === 'item' || root === 'index') && (!step.forEach || field === 'forEach')) {
        issues.push({ path: at, message: `"${root}" is only defined in a fan-out step's prompt, system and output` });
      }
      if (root === 'steps') {
        const target = path[1];
        if (typeof target !== 'string') issues.push({ path: at, message: 'a steps path names a step: steps.<id>' });
        else if (target === step.id) issues.push({ path: at, message: `step "${step.id}" cannot read its own output` });
        else if (!known.has(target)) issues.push({ path: at, message: `unknown step "${target}" (known: ${[...known].join(', ')})` });
      }
    }
  }
  if (step.forEach && !/^(steps\.|input\b)/.test(step.forEach.from)) {
    issues.push({ path: ['steps', index, 'forEach', 'from'], message: 'fans out over an array under steps.<id> or input' });
  }
  return issues;
}

/** The first dependency cycle found, as step ids (`a → b → a`), or undefined. */
function findCycle(steps: ReadonlyArray<StepShape>): string[] | undefined {
  const deps = new Map(steps.map((s) => [s.id, stepDependencies(s)]));
  const state = new Map<string, 'visiting' | 'done'>();
  const trail: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === 'done' || !deps.has(id)) return undefined;
    if (state.get(id) === 'visiting') return [...trail.slice(trail.indexOf(id)), id];
    state.set(id, 'visiting');
    trail.push(id);
    for (const next of deps.get(id)!) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    trail.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const step of steps) {
    const cycle = visit(step.id);
    if (cycle) return cycle;
  }
  return undefined;
}

/** Every rule a chain breaks, with the path of the field at fault. */
export function collectChainIssues(chain: { steps: ReadonlyArray<StepShape>; result?: unknown }): ChainIssue[] {
  const issues: ChainIssue[] = [];
  const known = new Set<string>();
  chain.steps.forEach((step, index) => {
    if (known.has(step.id)) issues.push({ path: ['steps', index, 'id'], message: `duplicate step "${step.id}"` });
    known.add(step.id);
  });
  chain.steps.forEach((step, index) => {
    issues.push(...checkTemplates(step, index, known));
    (step.after ?? []).forEach((dep, i) => {
      if (!known.has(dep)) issues.push({ path: ['steps', index, 'after', i], message: `unknown step "${dep}"` });
    });
  });
  if (chain.result !== undefined) {
    try {
      for (const path of jsonTemplatePaths(chain.result)) {
        if (path[0] === 'item' || path[0] === 'index') issues.push({ path: ['result'], message: `"${path[0]}" is not defined in the result` });
        if (path[0] === 'steps' && !known.has(String(path[1]))) issues.push({ path: ['result'], message: `unknown step "${String(path[1])}"` });
      }
    } catch (error) {
      if (!isTemplateError(error)) throw error;
      issues.push({ path: ['result'], message: error.message });
    }
  }
  if (issues.length === 0) {
    const cycle = findCycle(chain.steps);
    if (cycle) issues.push({ path: ['steps'], message: `the steps' dependencies form a cycle: ${cycle.join(' → ')}` });
  }
  return issues;
}
