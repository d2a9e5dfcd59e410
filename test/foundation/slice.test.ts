import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { JSONCodec } from 'nats';
import { createProbeActivities } from '../../activities/probe';
import { ensureStreams, streams } from '../../lib/nats/streams';
import { probeWorkflowId } from '../../contracts/names';
import { ProbeEvent } from '../../schemas/probe';
import { openTestContext, type TestContext, withWorker } from '../harness/env';

describe('foundation slice: workflow → activity → JetStream', () => {
  let ctx: TestContext;

  beforeAll(async () => {
    ctx = await openTestContext();
    await ensureStreams(ctx.nats);
  });
  afterAll(async () => {
    await ctx?.close();
  });

  it('publishes an event from an activity that a NATS reader gets back', async () => {
    const probeId = randomUUID();
    const result = await withWorker({ taskQueue: ctx.taskQueue, activities: createProbeActivities({ nats: ctx.nats }) }, () =>
      ctx.client.workflow.execute('probe', {
        taskQueue: ctx.taskQueue,
        workflowId: probeWorkflowId(probeId),
        args: [{ probeId, message: 'hello from the slice' }],
      }),
    );

    const jsm = await ctx.nats.jetstreamManager();
    const stored = await jsm.streams.getMessage(streams.probes.name, { last_by_subj: `sb.probe.${probeId}` });
    const event = ProbeEvent.parse(JSONCodec().decode(stored.data));
    expect(stored.seq).toBe(result.seq);
    expect(event).toEqual({ probeId, message: 'hello from the slice', publishedAt: result.publishedAt });
  });

  it('shows an activity failure in the workflow history', async () => {
    const probeId = randomUUID();
    const workflowId = probeWorkflowId(probeId);
    const failure = await withWorker({ taskQueue: ctx.taskQueue, activities: createProbeActivities({ nats: ctx.nats }) }, async () => {
      try {
        await ctx.client.workflow.execute('probe', {
          taskQueue: ctx.taskQueue,
          workflowId,
          args: [{ probeId, message: 'doomed', failWith: 'upstream exploded' }],
        });
        return undefined;
      } catch (error) {
        return error;
      }
    });
    expect(failure).toBeInstanceOf(WorkflowFailedError);

    const history = await ctx.client.workflow.getHandle(workflowId).fetchHistory();
    const failed = history.events?.find((e) => e.activityTaskFailedEventAttributes);
    const attrs = failed?.activityTaskFailedEventAttributes;
    expect(attrs?.failure?.message).toBe('upstream exploded');
    expect(attrs?.failure?.applicationFailureInfo?.type).toBe('ProbeFailure');
    expect(attrs?.failure?.applicationFailureInfo?.nonRetryable).toBe(true);
  });
});
