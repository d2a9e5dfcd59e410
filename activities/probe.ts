import { ApplicationFailure } from '@temporalio/common';
import { JSONCodec, type NatsConnection } from 'nats';
import { type ProbeEvent, ProbeInput } from '../schemas/probe';

export interface ProbeActivityDeps {
  nats: NatsConnection;
}

/**
 * The harness slice: proves a workflow's activity reaches JetStream. Used by
 * the foundation tests and `make demo` to check the stack end to end.
 */
export function createProbeActivities({ nats }: ProbeActivityDeps) {
  const codec = JSONCodec<ProbeEvent>();
  const js = nats.jetstream();
  return {
    async publishProbeEvent(input: ProbeInput): Promise<ProbeEvent & { seq: number }> {
      const parsed = ProbeInput.parse(input);
      if (parsed.failWith) {
        throw ApplicationFailure.nonRetryable(parsed.failWith, 'ProbeFailure');
      }
      const event: ProbeEvent = { probeId: parsed.probeId, message: parsed.message, publishedAt: new Date().toISOString() };
      // msgID makes a retried activity publish the event once.
      const ack = await js.publish(`sb.probe.${parsed.probeId}`, codec.encode(event), { msgID: `probe-${parsed.probeId}` });
      return { ...event, seq: ack.seq };
    },
  };
}
