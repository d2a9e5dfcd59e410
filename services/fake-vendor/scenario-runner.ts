/**
 * Time-scripted faults: each step sets a rule (or clears an organisation's
 * rules) `at` ms after the scenario starts. Steps at 0 apply at once, so a
 * test that runs a scenario sees its first step immediately.
 */
import type { FaultRule, ScenarioStep } from '../../schemas/fake-vendor';
import type { FaultEngine } from './fault-engine';
import type { Scheduler } from './scheduler';

export interface ScenarioRunner {
  run(steps: readonly ScenarioStep[]): void;
  /** Cancels steps not yet applied; returns how many. */
  cancel(): number;
  readonly pendingSteps: number;
}

export interface ScenarioRunnerOptions {
  faults: FaultEngine;
  scheduler: Scheduler;
  /** Called after each step is applied. */
  onStep?: (step: ScenarioStep) => void;
  /** Called when a step cannot be applied (e.g. too many rules); the scenario goes on. */
  onError?: (error: unknown, step: ScenarioStep) => void;
}

export function createScenarioRunner(options: ScenarioRunnerOptions): ScenarioRunner {
  const pending = new Map<number, () => void>();
  let nextId = 0;

  const apply = (step: ScenarioStep): void => {
    try {
      if (step.clear === true) options.faults.clear(step.organisation);
      else if (step.fault !== undefined) options.faults.add(ruleOf(step, step.fault));
      options.onStep?.(step);
    } catch (error) {
      options.onError?.(error, step);
    }
  };

  return {
    run(steps) {
      for (const step of [...steps].sort((a, b) => a.at - b.at)) {
        if (step.at < 1) {
          apply(step);
          continue;
        }
        const id = nextId++;
        pending.set(
          id,
          options.scheduler.after(step.at, () => {
            pending.delete(id);
            apply(step);
          }),
        );
      }
    },
    cancel() {
      const count = pending.size;
      for (const cancel of pending.values()) cancel();
      pending.clear();
      return count;
    },
    get pendingSteps() {
      return pending.size;
    },
  };
}

function ruleOf(step: ScenarioStep, fault: FaultRule['fault']): FaultRule {
  const { at: _at, clear: _clear, fault: _fault, ...targeting } = step;
  return { ...targeting, fault };
}
