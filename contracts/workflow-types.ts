/**
 * The workflows as their callers see them: type names, signatures, signals
 * and queries. Services, the typed client and the CLI start and signal
 * workflows through these definitions, never by importing workflow code;
 * workflows/ implements them (a type check there holds each signature).
 * Deterministic like everything workflow code imports.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ChainProgress, ChainResult, ChainRunInput } from '../schemas/chain';
import type { LlmCallInput } from '../schemas/call';
import type { DrillInput, DrillRun } from '../schemas/drill';
import type { BreakerPolicy, BreakerState } from '../schemas/health';
import type { InsightsJobInput, InsightsJobResult } from '../schemas/insights';
import type { LlmResult } from '../schemas/llm';
import type { ProbeInput } from '../schemas/probe';

/** Workflow type names: the exported function names in workflows/index.ts. */
export const workflowTypes = {
  llmCall: 'llmCall',
  agentChain: 'agentChain',
  breakerSupervisor: 'breakerSupervisor',
  insightsJob: 'insightsJob',
  fallbackDrill: 'fallbackDrill',
  probe: 'probe',
} as const;

/** One LLM call (workflows/llm-call.ts). */
export type LlmCallWorkflow = (input: LlmCallInput) => Promise<LlmResult>;
/** A multi-step agent chain (workflows/agent-chain.ts). */
export type AgentChainWorkflow = (run: ChainRunInput) => Promise<ChainResult>;
/** The one writer of a breaker's state (workflows/breaker-supervisor.ts). */
export type BreakerSupervisorWorkflow = (input: BreakerSupervisorInput) => Promise<void>;
/** Why users reject answers, on a Schedule (workflows/insights.ts). */
export type InsightsJobWorkflow = (input?: InsightsJobInput) => Promise<InsightsJobResult>;
/** A route's fallback drill (workflows/drill.ts). */
export type FallbackDrillWorkflow = (input: DrillInput) => Promise<DrillRun>;
/** The harness's round trip through Temporal and NATS (workflows/probe.ts). */
export type ProbeWorkflow = (input: ProbeInput) => Promise<{ seq: number; publishedAt: string }>;

export interface BreakerSupervisorInput {
  upstream: string;
  /** The model of a model-level breaker; absent for the upstream's own. */
  model?: string;
  /** The breaker's key (KV key, probe slots); default `upstream` (supervisors started before models had breakers). */
  key?: string;
  cluster?: string;
  /** The policy at start; the supervisor follows the workers' live config from then on. */
  policy: BreakerPolicy;
  /** Carried over by continue-as-new; absent on first start (then read from KV). */
  state?: BreakerState;
  /** Inputs that arrived but were not handled before continue-as-new. */
  pending?: unknown[];
  /** Model the probes ask for: the one of the latest trip. */
  probeModel?: string;
}

/** Signals and queries of the breakerSupervisor workflow. */
const breakerNames = {
  /** Carries a BreakerInput (trip, probe result, operator action). */
  input: 'breakerInput',
  /** Returns the supervisor's current BreakerState. */
  state: 'breakerState',
} as const;

/** Carries a BreakerInput (trip, probe result, operator action); validated by the sender, shape-checked by the workflow. */
export const breakerInputSignal = defineSignal<[unknown]>(breakerNames.input);
/** The supervisor's current BreakerState (the Temporal UI's Queries tab shows it too). */
export const breakerStateQuery = defineQuery<BreakerState | undefined>(breakerNames.state);

/** Queries of the agentChain workflow (answered while it runs and after it closed). */
export const chainQueries = {
  /** Counts per step, calls done and running, cost so far (ChainProgress). */
  progress: defineQuery<ChainProgress>('chainProgress'),
  /** Outputs of the steps completed so far, by step id (fan-out steps: once every item is done). */
  outputs: defineQuery<Record<string, unknown>>('chainOutputs'),
} as const;
