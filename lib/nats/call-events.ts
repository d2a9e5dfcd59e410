import { JSONCodec, type NatsConnection } from 'nats';
import type { CallEvent } from '../../schemas/call-event';
import { callEventSubject } from '../../workflows/definitions';

const codec = JSONCodec<CallEvent>();

/** Publishes CallEvents to JetStream; the eventId is the msgID, so a retried publish is stored once. */
export function createCallEventPublisher(nc: NatsConnection) {
  const js = nc.jetstream();
  return async function publishCallEvent(event: CallEvent): Promise<number> {
    const ack = await js.publish(callEventSubject(event.provider, event.upstream), codec.encode(event), { msgID: event.eventId });
    return ack.seq;
  };
}
export type CallEventPublisher = ReturnType<typeof createCallEventPublisher>;
