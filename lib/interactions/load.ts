/**
 * The judged interactions of a period: interaction records of one tenant (or
 * all) from SB_INTERACTIONS, joined by call id with their feedback from
 * SB_FEEDBACK. Feedback is read from the period's start until now, because a
 * verdict arrives after its call, possibly after the period ended.
 */
import type { NatsConnection } from 'nats';
import { Feedback, Interaction, type JudgedInteraction } from '../../schemas/interaction';
import { feedbackSubject, interactionSubject } from '../../contracts/names';
import { streams } from '../nats/streams';
import { joinFeedback } from './join';
import { readStreamRange } from './stream-range';

export interface InteractionQuery {
  /** Only this tenant's calls; default every tenant. */
  tenant?: string;
  /** Epoch ms, inclusive. */
  sinceMs: number;
  /** Epoch ms, inclusive. */
  untilMs: number;
  /** Most interactions read (oldest first). Default 50,000. */
  maxInteractions?: number;
}

export interface JudgedInteractions {
  interactions: JudgedInteraction[];
  /** True when `maxInteractions` stopped the read before the period's end. */
  truncated: boolean;
  /** Verdicts read (before the join; verdicts on calls outside the period are among them). */
  feedbackRead: number;
}

/** Feedback per interaction we are willing to read: callers may change their mind, but not without bound. */
const FEEDBACK_PER_INTERACTION = 4;

export async function loadJudgedInteractions(nats: NatsConnection, query: InteractionQuery): Promise<JudgedInteractions> {
  const max = query.maxInteractions ?? 50_000;
  const { tenant, sinceMs, untilMs } = query;
  // The subject narrows the read; the tenant field decides (two tenant ids can map to one subject token).
  const ofTenant = (record: { tenant: string }) => tenant === undefined || record.tenant === tenant;
  const interactions = await readStreamRange(nats, {
    stream: streams.interactions.name,
    subject: tenant === undefined ? streams.interactions.subjects[0] : interactionSubject(tenant),
    sinceMs,
    untilMs,
    max,
    parse: (data) => {
      const parsed = Interaction.safeParse(data);
      return parsed.success && ofTenant(parsed.data) && parsed.data.at >= sinceMs && parsed.data.at <= untilMs ? parsed.data : undefined;
    },
  });
  const feedback = await readStreamRange(nats, {
    stream: streams.feedback.name,
    subject: tenant === undefined ? streams.feedback.subjects[0] : feedbackSubject(tenant),
    sinceMs,
    max: max * FEEDBACK_PER_INTERACTION,
    parse: (data) => {
      const parsed = Feedback.safeParse(data);
      return parsed.success && ofTenant(parsed.data) ? parsed.data : undefined;
    },
  });
  return {
    interactions: joinFeedback(interactions.items, feedback.items),
    truncated: interactions.truncated,
    feedbackRead: feedback.items.length,
  };
}
