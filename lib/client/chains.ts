/**
 * The chain half of the typed client: `startChain` returns a handle with
 * progress, result and cancel; `runChain` waits for the result.
 */
import type { Client } from '@temporalio/client';
import { type ChainWorkflowHandle, startChainRun, toChainError } from '../chains/client-facing';
import type { ChainRegistry } from '../chains/registry';
import { ChainDefinition, type ChainDefinitionInput, type ChainProgress, type ChainResult, type ChainRunRequestInput } from '../../schemas/chain';
import { chainQueries } from '../../contracts/workflow-types';
import { describeZodIssues } from '../config/load';
import { SwitchboardRequestError } from './errors';

/** Run a registered chain by name, or a definition given in code. */
export type ChainRunOptions = Omit<ChainRunRequestInput, 'chain'> & { chain: string | ChainDefinitionInput };

export interface ChainHandle {
  chainId: string;
  workflowId: string;
  /** Counts per step and calls so far (answered by a worker). */
  progress(): Promise<ChainProgress>;
  /** The assembled result, or a SwitchboardChainError naming the step that failed. */
  result(): Promise<ChainResult>;
  /** Cancels the run and every call still in flight. */
  cancel(): Promise<void>;
  handle: ChainWorkflowHandle;
}

function inlineDefinition(definition: ChainDefinitionInput): ChainDefinition {
  const parsed = ChainDefinition.safeParse(definition);
  if (!parsed.success) {
    throw new SwitchboardRequestError(
      `invalid chain definition: ${describeZodIssues(parsed.error)}`,
      `chain.${parsed.error.issues[0]?.path.map(String).join('.') ?? ''}`,
      parsed.error.issues.map((i) => i.message),
    );
  }
  return parsed.data;
}

export function createChainClient({ client, taskQueue, chains }: { client: Client; taskQueue: string; chains: ChainRegistry }) {
  async function startChain(options: ChainRunOptions): Promise<ChainHandle> {
    const { chain, ...rest } = options;
    const definition = typeof chain === 'string' ? undefined : inlineDefinition(chain);
    const handle = await startChainRun(
      client,
      { ...rest, chain: definition?.name ?? (chain as string) },
      { taskQueue, registry: chains, ...(definition ? { definition } : {}) },
    );
    const chainId = handle.workflowId;
    return {
      chainId,
      workflowId: chainId,
      handle,
      progress: () => handle.query(chainQueries.progress),
      result: () => handle.result().catch((error: unknown) => Promise.reject(toChainError(error, chainId))),
      cancel: () => handle.cancel().then(() => undefined),
    };
  }
  return {
    startChain,
    /** Runs a chain and returns its result. */
    async runChain(options: ChainRunOptions): Promise<ChainResult> {
      return (await startChain(options)).result();
    },
  };
}
