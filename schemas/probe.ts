import { z } from 'zod';

export const ProbeInput = z.object({
  probeId: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only (it is a NATS subject token)'),
  message: z.string(),
  /** When set, the activity fails with this message (to see failures in history). */
  failWith: z.string().optional(),
});
export type ProbeInput = z.infer<typeof ProbeInput>;

export const ProbeEvent = z.object({
  probeId: z.string(),
  message: z.string(),
  publishedAt: z.string(),
});
export type ProbeEvent = z.infer<typeof ProbeEvent>;
