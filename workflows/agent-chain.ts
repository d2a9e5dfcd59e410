import {
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  ChildWorkflowFailure,
  executeChild,
  isCancellation,
  log,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { collectChainIssues, stepDependencies } from '../lib/chains/definition-check';
import { Slots } from '../lib/chains/slots';
import { buildRepairRequest, buildStepRequest, checkStepOutput, describeFailures } from '../lib/chains/step-request';
import { isTemplateError, renderJsonTemplate, resolvePath, type TemplateScope } from '../lib/chains/template';
import type { createJsonCheckActivities } from '../activities/json-check';
import type { LlmRequest } from '../schemas/llm';
// Types only: zod schemas evaluated here would be evaluated for every workflow the worker runs. Callers parse at the boundary.
import type { ChainCallRecord, ChainProgress, ChainResult, ChainRunInput, ChainStep, ChainStepFailureDetails } from '../schemas/chain';
import { chainFailureTypes } from '../contracts/failures';
import { chainCallWorkflowId } from '../contracts/names';
import { chainQueries } from '../contracts/workflow-types';
import { llmCall } from './llm-call';

// JSON Schema checks need zod, which stays out of workflow code (see activities/json-check.ts).
const { checkJsonValue } = proxyLocalActivities<ReturnType<typeof createJsonCheckActivities>>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 3 },
});

/** Failure type recorded when a step's output still fails its schema after the repairs. */
const INVALID_OUTPUT = 'SbInvalidOutput';

function stepFailure(chain: string, step: ChainStep, index: number | undefined, causeType: string, reason: string): ApplicationFailure {
  const where = `chain "${chain}" step "${step.id}"${index === undefined ? '' : ` item ${index}`}`;
  const details: ChainStepFailureDetails = { step: step.id, ...(index === undefined ? {} : { index }), causeType };
  return ApplicationFailure.create({ type: chainFailureTypes.stepFailed, message: `${where} failed: ${reason}`, nonRetryable: true, details: [details] });
}

function invalidChain(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: chainFailureTypes.invalidChain, message, nonRetryable: true });
}

/**
 * Runs a chain definition: every step starts when the steps it depends on are
 * done; each call is a child llmCall workflow (so retries, fallback, the
 * failover switch and breakers apply) with an id derived from this
 * workflow's id, the step, the item and the repair round. A crashed worker's
 * successor replays this history, so completed calls are never made again.
 * A step's output that fails its schema gets repair calls, then fails the
 * chain naming the step; the first failure cancels the calls still running.
 */
export async function agentChain(run: ChainRunInput): Promise<ChainResult> {
  const { definition, input, chainId, tenant, user } = run;
  const issues = collectChainIssues(definition);
  if (issues.length) throw invalidChain(`invalid chain "${definition.name}": ${issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const { workflowId, taskQueue } = workflowInfo();
  const startedAt = Date.now();

  const outputs: Record<string, unknown> = {};
  const calls: ChainCallRecord[] = [];
  const progress: ChainProgress = {
    chainId,
    chain: definition.name,
    status: 'running',
    steps: Object.fromEntries(definition.steps.map((s) => [s.id, { status: 'waiting', completed: 0, running: 0, repairs: 0 }])),
    callsCompleted: 0,
    callsRunning: 0,
    costUsd: 0,
  };
  setHandler(chainQueries.progress, () => progress);
  setHandler(chainQueries.outputs, () => outputs);

  if (definition.input) {
    const inputIssues = await checkJsonValue({ value: input, schema: definition.input });
    if (inputIssues.length) throw invalidChain(`input of chain "${definition.name}" does not match its schema: ${describeFailures(inputIssues)}`);
  }

  const chainSlots = new Slots(definition.maxConcurrency);
  const scope = new CancellationScope();
  let firstFailure: ApplicationFailure | undefined;
  const fail = (failure: ApplicationFailure): never => {
    if (!firstFailure) {
      firstFailure = failure;
      progress.error = failure.message;
      scope.cancel();
    }
    throw failure;
  };

  async function runCall(step: ChainStep, callScope: TemplateScope, index: number | undefined, stepSlots: Slots | undefined): Promise<unknown> {
    const stepProgress = progress.steps[step.id]!;
    let request: LlmRequest;
    try {
      request = buildStepRequest({ definition, step, scope: callScope, tenant, user });
    } catch (error) {
      if (isTemplateError(error)) return fail(stepFailure(definition.name, step, index, chainFailureTypes.invalidChain, error.message));
      throw error;
    }
    for (let repair = 0; ; repair++) {
      const childId = chainCallWorkflowId(workflowId, step.id, index, repair);
      const call = async () => {
        progress.callsRunning += 1;
        stepProgress.running += 1;
        try {
          return await executeChild(llmCall, { workflowId: childId, taskQueue, args: [{ callId: childId, request }] });
        } finally {
          progress.callsRunning -= 1;
          stepProgress.running -= 1;
        }
      };
      let result;
      try {
        result = await (stepSlots ? stepSlots.run(() => chainSlots.run(call)) : chainSlots.run(call));
      } catch (error) {
        if (isCancellation(error) || firstFailure) throw error;
        const cause = error instanceof ChildWorkflowFailure && error.cause instanceof ApplicationFailure ? error.cause : undefined;
        return fail(
          stepFailure(definition.name, step, index, cause?.type ?? 'unknown', cause?.message ?? (error instanceof Error ? error.message : String(error))),
        );
      }
      calls.push({
        step: step.id,
        ...(index === undefined ? {} : { index }),
        workflowId: childId,
        repair,
        provider: result.provider,
        upstream: result.upstream,
        attempts: result.attempts.length,
        ...(result.costUsd !== undefined ? { costUsd: result.costUsd } : {}),
        latencyMs: result.latencyMs,
      });
      progress.costUsd += result.costUsd ?? 0;
      const failures = await checkStepOutput(request, result.output, checkJsonValue);
      if (failures.length === 0) {
        progress.callsCompleted += 1;
        stepProgress.completed += 1;
        return request.output ? result.output : result.text;
      }
      if (repair >= step.repairAttempts) {
        const rounds = repair === 1 ? '1 repair' : `${repair} repairs`;
        return fail(
          stepFailure(
            definition.name,
            step,
            index,
            INVALID_OUTPUT,
            `output "${request.output!.name}" does not match its schema after ${rounds}: ${describeFailures(failures)}`,
          ),
        );
      }
      log.info('chain step output failed its schema; repairing', { step: step.id, index, failures: failures.length });
      stepProgress.repairs += 1;
      request = buildRepairRequest(request, result.text, failures);
    }
  }

  async function runStep(step: ChainStep): Promise<void> {
    const stepProgress = progress.steps[step.id]!;
    stepProgress.status = 'running';
    const base: TemplateScope = { input, steps: outputs };
    try {
      if (!step.forEach) {
        stepProgress.total = 1;
        outputs[step.id] = await runCall(step, base, undefined, undefined);
      } else {
        let items: unknown;
        try {
          items = resolvePath(base, step.forEach.from);
        } catch (error) {
          if (isTemplateError(error)) fail(stepFailure(definition.name, step, undefined, chainFailureTypes.invalidChain, error.message));
          throw error;
        }
        if (!Array.isArray(items))
          fail(stepFailure(definition.name, step, undefined, chainFailureTypes.invalidChain, `forEach "${step.forEach.from}" is not a list`));
        const list = items as unknown[];
        stepProgress.total = list.length;
        const stepSlots = step.forEach.maxConcurrency ? new Slots(step.forEach.maxConcurrency) : undefined;
        outputs[step.id] = await Promise.all(list.map((item, index) => runCall(step, { ...base, item, index }, index, stepSlots)));
      }
      stepProgress.status = 'completed';
    } catch (error) {
      stepProgress.status = isCancellation(error) ? 'cancelled' : 'failed';
      throw error;
    }
  }

  const started = new Map<string, Promise<void>>();
  const byId = new Map(definition.steps.map((s) => [s.id, s]));
  // Memoised: each step's promise starts once, after its dependencies' (the definition is a checked DAG).
  const whenDone = (id: string): Promise<void> => {
    const known = started.get(id);
    if (known) return known;
    const step = byId.get(id)!;
    const promise = (async () => {
      await Promise.all(stepDependencies(step).map(whenDone));
      await runStep(step);
    })();
    started.set(id, promise);
    return promise;
  };
  const settled = await scope.run(() => Promise.allSettled(definition.steps.map((s) => whenDone(s.id))));

  if (CancellationScope.current().consideredCancelled) {
    progress.status = 'cancelled';
    throw new CancelledFailure(`chain "${definition.name}" was cancelled`);
  }
  const unexpected = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (firstFailure || unexpected) {
    progress.status = 'failed';
    throw firstFailure ?? unexpected!.reason;
  }
  let output: unknown = outputs;
  if (definition.result !== undefined) {
    try {
      output = renderJsonTemplate(definition.result, { input, steps: outputs });
    } catch (error) {
      progress.status = 'failed';
      throw isTemplateError(error) ? invalidChain(`the result of chain "${definition.name}" cannot be assembled: ${error.message}`) : error;
    }
  }
  progress.status = 'completed';
  return { chainId, chain: definition.name, output, steps: outputs, calls, costUsd: progress.costUsd, latencyMs: Date.now() - startedAt };
}
