/** The one mapping from a failed llmCall workflow to the caller's error, shared by the typed client and the gateway. */
import { ApplicationFailure, TerminatedFailure, WorkflowFailedError } from '@temporalio/client';
import { RetryState } from '@temporalio/common';
import { callErrorOf, isSwitchboardCallError, type SwitchboardCallError } from '../../lib/client/errors';
import { gatewayErrorOfCall } from '../../services/gateway/call-errors';
import { failureTypes } from '../../contracts/failures';

const attempts = [
  {
    attempt: 1,
    provider: 'openai',
    upstream: 'openai/org-a',
    model: 'm',
    promptVariant: 'none',
    outcome: 'retryable' as const,
    status: 503,
    errorType: 'server_error',
    latencyMs: 3,
    startedAt: 1,
  },
];

describe('callErrorOf', () => {
  it("keeps the workflow failure's stable type and attempt log", () => {
    const cause = ApplicationFailure.create({ type: failureTypes.exhausted, message: 'gave up after 3 attempts', nonRetryable: true, details: [{ attempts }] });
    const error = callErrorOf(new WorkflowFailedError('Workflow execution failed', cause, RetryState.NON_RETRYABLE_FAILURE), 'call-1') as SwitchboardCallError;
    expect(isSwitchboardCallError(error)).toBe(true);
    expect(error).toMatchObject({ type: failureTypes.exhausted, message: 'gave up after 3 attempts', callId: 'call-1', attempts });
    // The gateway reads the same error: every upstream exhausted is a 503 with the attempt summary.
    const http = gatewayErrorOfCall(error, 'call-1');
    expect(http.status).toBe(503);
  });

  it('names any other workflow failure SbWorkflowFailed, and leaves other errors alone', () => {
    const terminated = callErrorOf(
      new WorkflowFailedError('Workflow execution terminated', new TerminatedFailure('by an operator'), RetryState.NON_RETRYABLE_FAILURE),
      'call-2',
    ) as SwitchboardCallError;
    expect(terminated).toMatchObject({ type: failureTypes.workflowFailed, callId: 'call-2', attempts: [] });
    expect(gatewayErrorOfCall(terminated, 'call-2').status).toBe(502);
    const other = new Error('connection refused');
    expect(callErrorOf(other, 'call-3')).toBe(other);
  });
});
