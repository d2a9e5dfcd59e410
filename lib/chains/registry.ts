/**
 * Which chains a process can start by name: those in the config file's
 * `chains` section and those registered in code (the site planner, a team's
 * own), each validated by zod. The definition travels in the workflow's
 * input, so workers need no registry and a config change never alters a
 * chain already running.
 */
import { ChainDefinition, type ChainDefinitionInput } from '../../schemas/chain';
import type { SwitchboardConfig } from '../../schemas/config';

export type ChainRegistry = ReadonlyMap<string, ChainDefinition>;

/** Config chains plus `inCode` ones; a name defined twice is an error (which one wins would be a surprise). */
export function createChainRegistry(options: { config?: Pick<SwitchboardConfig, 'chains'>; inCode?: ReadonlyArray<ChainDefinitionInput> } = {}): ChainRegistry {
  const registry = new Map<string, ChainDefinition>();
  const add = (definition: ChainDefinition, origin: string) => {
    if (registry.has(definition.name)) throw new Error(`chain "${definition.name}" is defined twice (again ${origin})`);
    registry.set(definition.name, definition);
  };
  for (const [name, spec] of Object.entries(options.config?.chains ?? {})) add(ChainDefinition.parse({ ...spec, name }), 'in the config file');
  for (const definition of options.inCode ?? []) add(ChainDefinition.parse(definition), 'in code');
  return registry;
}
