/**
 * The feedback half of the typed client: `feedback(callId, {inserted, note})`
 * records whether the user kept a call's answer, with the same check as the
 * gateway's `POST /v1/feedback` (lib/interactions/feedback.ts).
 */
import type { Client } from '@temporalio/client';
import type { NatsConnection } from 'nats';
import { FeedbackRequest, type Feedback } from '../../schemas/interaction';
import { describeZodIssues } from '../config/load';
import { isUnknownCallError, recordFeedback } from '../interactions/feedback';
import { SwitchboardRequestError } from './errors';

export interface FeedbackOptions {
  inserted: boolean;
  note?: string;
  /** The tenant the call was made for. Default `default` (as in LlmRequest). */
  tenant?: string;
}

export function createFeedbackClient({ client, nats }: { client: Client; nats: NatsConnection | undefined }) {
  return {
    /**
     * Records the caller's verdict on one of its calls. Throws
     * SwitchboardRequestError (field `callId`) for an unknown call id or
     * another tenant's call; nothing is recorded then.
     */
    async feedback(callId: string, options: FeedbackOptions): Promise<Feedback> {
      if (!nats) throw new Error('feedback needs a NATS connection: pass `nats` to createSwitchboardClient');
      const { tenant = 'default', ...verdict } = options;
      const parsed = FeedbackRequest.safeParse({ callId, ...verdict });
      if (!parsed.success) {
        const field = parsed.error.issues[0]?.path.map(String).join('.') || undefined;
        throw new SwitchboardRequestError(
          `invalid feedback: ${describeZodIssues(parsed.error)}`,
          field,
          parsed.error.issues.map((i) => i.message),
        );
      }
      try {
        return await recordFeedback({ client, nats }, tenant, parsed.data);
      } catch (error) {
        if (isUnknownCallError(error)) throw new SwitchboardRequestError(`no call "${callId}" for tenant "${tenant}"`, 'callId', [error.message]);
        throw error;
      }
    },
  };
}
