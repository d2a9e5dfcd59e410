/**
 * The operations tests and operators use to steer the fake vendor, with their
 * input validated once here, shared by the in-process API and the admin HTTP
 * API. Bad input raises `AdminInputError` naming the problem.
 */
import { FaultRule, FaultRules, type ActiveFaultRule, type RequestLogQuery, type ScenarioStep, type VendorRequestRecord } from '../../schemas/fake-vendor';
import { describeIssues, readScenario } from './config';
import type { FaultEngine } from './fault-engine';
import type { OrganisationRegistry } from './organisations';
import type { RequestLog } from './request-log';
import type { ScenarioRunner } from './scenario-runner';

export class AdminInputError extends Error {
  override readonly name = 'AdminInputError';
}

export function isAdminInputError(error: unknown): error is AdminInputError {
  return error instanceof Error && error.name === 'AdminInputError';
}

export interface VendorControl {
  /** One rule or a list; returns their ids in order. */
  setFaults(input: unknown): string[];
  listFaults(): ActiveFaultRule[];
  clearFaults(organisation?: string): number;
  removeFault(id: string): boolean;
  /** `{ steps }` or a bare list; returns how many steps were scheduled. */
  runScenario(input: unknown): number;
  cancelScenario(): number;
  queryRequests(query?: Partial<RequestLogQuery>): { count: number; records: VendorRequestRecord[] };
  resetLog(): void;
  health(): { status: 'ok'; organisations: string[]; activeFaults: number; pendingScenarioSteps: number; loggedRequests: number; uptimeMs: number };
}

export function createVendorControl(deps: {
  registry: OrganisationRegistry;
  faults: FaultEngine;
  scenarios: ScenarioRunner;
  log: RequestLog;
  now: () => number;
}): VendorControl {
  const startedAtMs = deps.now();
  const knownOrganisation = (id: string, where: string): void => {
    if (deps.registry.byId(id) === undefined) {
      const known = deps.registry.all.map((o) => o.id).join(', ');
      throw new AdminInputError(`${where}: unknown organisation '${id}' (known: ${known})`);
    }
  };
  const validModel = (rule: { organisation: string; model?: string }, where: string): void => {
    const organisation = deps.registry.byId(rule.organisation);
    if (rule.model !== undefined && organisation !== undefined && !organisation.models.has(rule.model)) {
      throw new AdminInputError(
        `${where}.model: organisation '${rule.organisation}' has no model '${rule.model}' (known: ${[...organisation.models.keys()].join(', ')})`,
      );
    }
  };

  return {
    setFaults(input) {
      const isList = Array.isArray(input);
      const parsed = isList ? FaultRules.safeParse(input) : FaultRule.safeParse(input);
      if (!parsed.success) throw new AdminInputError(`invalid fault rule: ${describeIssues(parsed.error)}`);
      const rules: FaultRule[] = Array.isArray(parsed.data) ? parsed.data : [parsed.data];
      // Every rule is checked before any is set, so a bad list changes nothing.
      rules.forEach((rule, i) => {
        const where = isList ? String(i) : 'rule';
        knownOrganisation(rule.organisation, `${where}.organisation`);
        validModel(rule, where);
      });
      return rules.map((rule) => deps.faults.add(rule));
    },
    listFaults: () => deps.faults.list(),
    clearFaults(organisation) {
      if (organisation !== undefined) knownOrganisation(organisation, 'organisation');
      return deps.faults.clear(organisation);
    },
    removeFault: (id) => deps.faults.remove(id),
    runScenario(input) {
      const read = readScenario(input);
      if (!read.ok) throw new AdminInputError(`invalid scenario: ${read.problem}`);
      const steps: ScenarioStep[] = read.steps;
      steps.forEach((step, i) => {
        knownOrganisation(step.organisation, `steps.${i}.organisation`);
        validModel(step, `steps.${i}`);
      });
      deps.scenarios.run(steps);
      return steps.length;
    },
    cancelScenario: () => deps.scenarios.cancel(),
    queryRequests: (query) => deps.log.query(query),
    resetLog: () => deps.log.reset(),
    health: () => ({
      status: 'ok',
      organisations: deps.registry.all.map((o) => o.id),
      activeFaults: deps.faults.list().length,
      pendingScenarioSteps: deps.scenarios.pendingSteps,
      loggedRequests: deps.log.size,
      uptimeMs: deps.now() - startedAtMs,
    }),
  };
}
