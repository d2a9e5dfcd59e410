/**
 * The live set of fault rules: set through the admin API, the in-process API
 * or a scenario, consulted once per vendor request. Rules that have spent
 * their `times` or outlived their `durationMs` are dropped as requests pass.
 */
import type { ActiveFaultRule, FaultRule } from '../../schemas/fake-vendor';
import { isRuleLive, NO_FAULTS, planFaults, type FaultContext, type FaultPlan, type StoredRule } from './fault-selection';
import type { Random } from './seeded-random';

/** Rules held at once; a runaway test script gets an error instead of a slow vendor. */
const MAX_FAULT_RULES = 1000;

export class FaultRuleLimitError extends Error {
  override readonly name = 'FaultRuleLimitError';
  constructor() {
    super(`at most ${MAX_FAULT_RULES} fault rules may be active; clear some first`);
  }
}

export interface FaultEngine {
  add(rule: FaultRule): string;
  remove(id: string): boolean;
  /** Clears every rule, or only the organisation's; returns how many went. */
  clear(organisation?: string): number;
  list(): ActiveFaultRule[];
  /** Chooses the faults for one request and spends the `times` of the rules that fired. */
  plan(context: FaultContext): FaultPlan;
}

export function createFaultEngine(options: { random: Random; now: () => number }): FaultEngine {
  let rules: StoredRule[] = [];
  let nextId = 1;

  const prune = (nowMs: number): void => {
    if (rules.some((r) => !isRuleLive(r, nowMs))) rules = rules.filter((r) => isRuleLive(r, nowMs));
  };

  return {
    add(rule) {
      prune(options.now());
      if (rules.length >= MAX_FAULT_RULES) throw new FaultRuleLimitError();
      const id = `fault-${nextId++}`;
      rules.push({ id, rule, createdAtMs: options.now(), firedCount: 0 });
      return id;
    },
    remove(id) {
      const before = rules.length;
      rules = rules.filter((r) => r.id !== id);
      return rules.length < before;
    },
    clear(organisation) {
      const before = rules.length;
      rules = organisation === undefined ? [] : rules.filter((r) => r.rule.organisation !== organisation);
      return before - rules.length;
    },
    list() {
      prune(options.now());
      return rules.map((r) => ({ ...r.rule, id: r.id, createdAtMs: r.createdAtMs, firedCount: r.firedCount }));
    },
    plan(context) {
      if (rules.length === 0) return NO_FAULTS;
      const plan = planFaults(rules, context, options.random);
      if (plan.firedRuleIds.length > 0) {
        for (const stored of rules) if (plan.firedRuleIds.includes(stored.id)) stored.firedCount++;
      }
      prune(context.nowMs);
      return plan;
    },
  };
}
