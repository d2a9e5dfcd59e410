// Every workflow the worker registers; the bundler starts here.
import type {
  AgentChainWorkflow,
  BreakerSupervisorWorkflow,
  FallbackDrillWorkflow,
  InsightsJobWorkflow,
  LlmCallWorkflow,
  ProbeWorkflow,
  workflowTypes,
} from '../contracts/workflow-types';
import { agentChain } from './agent-chain';
import { breakerSupervisor } from './breaker-supervisor';
import { fallbackDrill } from './drill';
import { insightsJob } from './insights';
import { llmCall } from './llm-call';
import { probe } from './probe';

export { llmCall, probe, breakerSupervisor, agentChain, insightsJob, fallbackDrill };

// Each workflow is registered under its contract's name, with the signature its callers start it with (contracts/workflow-types.ts).
const _implementsContracts: Record<keyof typeof workflowTypes, unknown> & {
  llmCall: LlmCallWorkflow;
  agentChain: AgentChainWorkflow;
  breakerSupervisor: BreakerSupervisorWorkflow;
  insightsJob: InsightsJobWorkflow;
  fallbackDrill: FallbackDrillWorkflow;
  probe: ProbeWorkflow;
} = { llmCall, agentChain, breakerSupervisor, insightsJob, fallbackDrill, probe };
