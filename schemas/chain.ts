/**
 * Agent chains as data: a DAG of steps, each one LLM call (or one call per
 * item of an earlier step's array output), with prompts as templates over the
 * chain input and earlier outputs. Parsed by zod at every boundary (config,
 * client, workflow), so a bad definition fails with the field's name.
 */
import { z } from 'zod';
import { collectChainIssues, type ChainIssue } from '../lib/chains/definition-check';
import { jsonTemplatePaths } from '../lib/chains/template';
import { checkOutputSchema, exceedsJsonBounds } from '../lib/validation/request-schemas';
import { JsonSchema, SamplingParams, StructuredOutput } from './llm';

const stepId = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'a letter, then letters, digits, _ or -, at most 64');
const idToken = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9._:@-]+$/, 'letters, digits and . _ : @ - only');

/** One call per item of an array found at `from` (a template path such as `steps.siteMap.pages`). */
export const FanOut = z.object({
  from: z.string().min(1),
  /** Children of this step in flight at once. Default: the chain's cap. */
  maxConcurrency: z.number().int().positive().max(1_000).optional(),
});
export type FanOut = z.infer<typeof FanOut>;

export const ChainStep = z.object({
  id: stepId,
  /** Route of this step's calls. Default: the chain's `route`. */
  route: z.string().min(1).optional(),
  /** System prompt template. Default none. */
  system: z.string().optional(),
  /** User message template over `input`, `steps.<id>` and, in fan-out steps, `item` and `index`. */
  prompt: z.string().min(1),
  /**
   * Structured output: a JSON Schema (write zod, convert with `z.toJSONSchema`).
   * String values of the form `{{ path }}` are templates too (e.g. `minItems` from the input).
   */
  output: StructuredOutput.optional(),
  forEach: FanOut.optional(),
  /** Steps to wait for beyond those the templates name. Default none. */
  after: z.array(stepId).default([]),
  /** Follow-up calls with the validation errors appended when the output fails its schema. Default 1. */
  repairAttempts: z.number().int().min(0).max(5).default(1),
  params: SamplingParams.optional(),
  /** Feature recorded on every call (search attribute, insert rate). Default `<chain>.<step>`. */
  feature: idToken.optional(),
  /** Bounds each call of this step. Default: config `timeouts.callMs`. */
  deadlineMs: z.number().int().positive().max(3_600_000).optional(),
});
export type ChainStep = z.infer<typeof ChainStep>;
export type ChainStepInput = z.input<typeof ChainStep>;

const chainShape = z.object({
  description: z.string().optional(),
  /** Default route of the steps. */
  route: z.string().min(1),
  /** JSON Schema the chain input must match. Default: anything. */
  input: JsonSchema.optional(),
  steps: z.array(ChainStep).min(1, 'a chain needs at least one step'),
  /** Child calls in flight at once over the whole chain. Default 8. */
  maxConcurrency: z.number().int().positive().max(1_000).default(8),
  /** JSON template of the chain's result; `"{{ steps.x }}"` strings become values. Default: every step's output by id. */
  result: z.unknown().optional(),
});

/**
 * Output schemas checked when the chain is defined or started, not when a
 * step's answer arrives: bounded always, compiled when they hold no template
 * (a templated one is complete only once rendered).
 */
function outputSchemaIssues(chain: { steps: ReadonlyArray<{ output?: { schema: Record<string, unknown> } | undefined }> }): ChainIssue[] {
  return chain.steps.flatMap((step, index) => {
    if (!step.output) return [];
    let templated = true;
    try {
      templated = jsonTemplatePaths(step.output.schema).length > 0;
    } catch {
      // A template error is reported by collectChainIssues.
    }
    const bound = exceedsJsonBounds(step.output.schema);
    const problem = templated ? bound && `structured-output schema ${bound}` : checkOutputSchema(step.output.schema);
    return problem ? [{ path: ['steps', index, 'output', 'schema'], message: problem }] : [];
  });
}

/** A chain as written in the config file's `chains` section (the key is its name). */
export const ChainSpec = chainShape.superRefine((chain, ctx) => {
  for (const issue of [...collectChainIssues(chain), ...outputSchemaIssues(chain)]) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
});
export type ChainSpec = z.infer<typeof ChainSpec>;

export const ChainDefinition = chainShape.extend({ name: idToken }).superRefine((chain, ctx) => {
  for (const issue of [...collectChainIssues(chain), ...outputSchemaIssues(chain)]) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
});
export type ChainDefinition = z.infer<typeof ChainDefinition>;
export type ChainDefinitionInput = z.input<typeof ChainDefinition>;

/** What the agentChain workflow is started with: the definition travels in history, so a config change never alters a running chain. */
export const ChainRunInput = z.object({
  chainId: z.string().min(1),
  definition: ChainDefinition,
  input: z.unknown(),
  tenant: idToken.default('default'),
  user: idToken.optional(),
});
export type ChainRunInput = z.infer<typeof ChainRunInput>;

/** A request to run a registered chain (the gateway's `POST /v1/chains` body). */
export const ChainRunRequest = z.object({
  chain: z.string().min(1),
  input: z.unknown(),
  tenant: idToken.default('default'),
  user: idToken.optional(),
  /** The same key finds the same chain run: a retried request never pays twice. */
  idempotencyKey: idToken.optional(),
});
export type ChainRunRequest = z.infer<typeof ChainRunRequest>;
export type ChainRunRequestInput = z.input<typeof ChainRunRequest>;

/** One child call of a chain, as the result and progress report it. */
export const ChainCallRecord = z.object({
  step: z.string(),
  /** Item index in a fan-out step. */
  index: z.number().int().nonnegative().optional(),
  workflowId: z.string(),
  /** 0 for the first call, n for the n-th repair. */
  repair: z.number().int().nonnegative(),
  provider: z.string(),
  upstream: z.string(),
  attempts: z.number().int().nonnegative(),
  costUsd: z.number().nonnegative().optional(),
  latencyMs: z.number().nonnegative(),
});
export type ChainCallRecord = z.infer<typeof ChainCallRecord>;

export const StepStatus = z.enum(['waiting', 'running', 'completed', 'failed', 'cancelled']);
export type StepStatus = z.infer<typeof StepStatus>;

export const StepProgress = z.object({
  status: StepStatus,
  /** Calls this step makes (items of a fan-out; 1 otherwise); unknown until its source is done. */
  total: z.number().int().nonnegative().optional(),
  completed: z.number().int().nonnegative(),
  running: z.number().int().nonnegative(),
  repairs: z.number().int().nonnegative(),
});
export type StepProgress = z.infer<typeof StepProgress>;

export const ChainStatus = z.enum(['running', 'completed', 'failed', 'cancelled']);
export type ChainStatus = z.infer<typeof ChainStatus>;

export const ChainProgress = z.object({
  chainId: z.string(),
  chain: z.string(),
  status: ChainStatus,
  steps: z.record(z.string(), StepProgress),
  callsCompleted: z.number().int().nonnegative(),
  callsRunning: z.number().int().nonnegative(),
  costUsd: z.number().nonnegative(),
  /** Why the chain failed, naming the step. */
  error: z.string().optional(),
});
export type ChainProgress = z.infer<typeof ChainProgress>;

export const ChainResult = z.object({
  chainId: z.string(),
  chain: z.string(),
  /** The `result` template rendered, or every step's output by id. */
  output: z.unknown(),
  steps: z.record(z.string(), z.unknown()),
  calls: z.array(ChainCallRecord),
  costUsd: z.number().nonnegative(),
  latencyMs: z.number().nonnegative(),
});
export type ChainResult = z.infer<typeof ChainResult>;

/** Details of a chain that failed at a step (ApplicationFailure details[0]). */
export const ChainStepFailureDetails = z.object({
  step: z.string(),
  index: z.number().int().nonnegative().optional(),
  /** The failure type of the child call, or `SbInvalidOutput` after repairs ran out. */
  causeType: z.string(),
});
export type ChainStepFailureDetails = z.infer<typeof ChainStepFailureDetails>;
