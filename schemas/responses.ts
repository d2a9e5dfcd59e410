/** A stored Responses API response: what `previous_response_id` continues from. */
import { z } from 'zod';
import { Message } from './llm';

export const StoredResponse = z.object({
  id: z.string(),
  tenant: z.string(),
  /** Epoch ms. */
  createdAt: z.number(),
  route: z.string(),
  model: z.string(),
  callId: z.string(),
  /** The whole conversation up to and including this response's output (instructions excluded: they hold for one turn). */
  conversation: z.array(Message),
});
export type StoredResponse = z.infer<typeof StoredResponse>;
