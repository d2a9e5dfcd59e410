import { JSONCodec } from 'nats';
import type { CallEvent } from '../../schemas/call-event';
import { callEventSubject } from '../../contracts/names';
import type { Outbox } from './outbox';

const codec = JSONCodec<CallEvent>();

/**
 * Publishes CallEvents to JetStream through the process's outbox: the eventId
 * is the msgID, so a retried publish is stored once, and a NATS blip delays
 * an event instead of losing it.
 */
export function createCallEventPublisher(outbox: Outbox) {
  return async function publishCallEvent(event: CallEvent): Promise<void> {
    await outbox.publish(callEventSubject(event.provider, event.upstream), codec.encode(event), event.eventId);
  };
}
export type CallEventPublisher = ReturnType<typeof createCallEventPublisher>;
