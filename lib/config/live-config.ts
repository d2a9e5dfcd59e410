/**
 * The configuration a running worker or gateway serves with, swappable
 * without a restart. A reload is two-phase: every registered step first
 * prepares its part (builds SDK clients, indexes tenants...) and may throw to
 * reject the new config; only when all have prepared does each commit. So a
 * bad config changes nothing and the old one keeps serving.
 *
 * Workflows already running keep the plan their planCall activity returned;
 * new plans and new attempts read the new config.
 */
import type { Logger } from '../log';
import type { SwitchboardConfig } from '../../schemas/config';
import type { UpstreamSecrets } from './load';

/** A validated config and the keys it names (kept apart so logging a config never logs a key). */
export interface LoadedConfig {
  config: SwitchboardConfig;
  secrets: UpstreamSecrets;
}

export type ReloadResult = 'applied' | 'rejected';

export interface ReloadOutcome {
  result: ReloadResult;
  /** Where the candidate came from: a file path, `kv:<bucket>/<key>`. */
  source: string;
  /** Generation serving after this outcome (bumped by each applied reload). */
  generation: number;
  /** Why it was rejected: names the field, never a key. */
  error?: string;
}

/** Prepares one part of a swap: throw to reject the candidate; return what commits it (or nothing). */
export type ReloadStep = (next: LoadedConfig, previous: LoadedConfig) => (() => void) | void;

export interface LiveConfig {
  current(): SwitchboardConfig;
  secrets(): UpstreamSecrets;
  /** 1 at start, +1 per applied reload. */
  generation(): number;
  /** Adds a step to every later reload (run in registration order); returns its removal. */
  onReload(step: ReloadStep): () => void;
  /** Observes every reload's outcome (metrics); returns its removal. */
  onOutcome(listener: (outcome: ReloadOutcome) => void): () => void;
  /** Loads a candidate and swaps to it if it loads and every step prepares; otherwise keeps the current one. */
  reload(load: () => LoadedConfig, source: string): ReloadOutcome;
}

export function createLiveConfig(initial: LoadedConfig, log?: Logger): LiveConfig {
  let serving = initial;
  let generation = 1;
  const steps = new Set<ReloadStep>();
  const listeners = new Set<(outcome: ReloadOutcome) => void>();

  const announce = (outcome: ReloadOutcome): ReloadOutcome => {
    for (const listener of listeners) listener(outcome);
    return outcome;
  };

  return {
    current: () => serving.config,
    secrets: () => serving.secrets,
    generation: () => generation,
    onReload(step) {
      steps.add(step);
      return () => steps.delete(step);
    },
    onOutcome(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    reload(load, source) {
      let commits: Array<() => void>;
      let next: LoadedConfig;
      try {
        next = load();
        commits = [...steps].flatMap((step) => step(next, serving) ?? []);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        log?.warn({ configSource: source, generation, error: message }, 'config rejected: the previous config keeps serving');
        return announce({ result: 'rejected', source, generation, error: message });
      }
      serving = next;
      generation += 1;
      for (const commit of commits) commit();
      // A transition: logged whatever the verbosity (warn passes `minimal`).
      log?.warn({ configSource: source, generation, routes: Object.keys(next.config.routes), upstreams: upstreamIds(next.config) }, 'config reloaded');
      return announce({ result: 'applied', source, generation });
    },
  };
}

function upstreamIds(config: SwitchboardConfig): string[] {
  return Object.entries(config.providers).flatMap(([provider, p]) => p.upstreams.map((u) => `${provider}/${u.name}`));
}
