import { z } from 'zod';

const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name (A-Z, 0-9, _)');
const durableName = z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only (a JetStream consumer name)');

/**
 * The optional PostgreSQL copy of SB_INTERACTIONS and SB_FEEDBACK, for teams
 * that query interactions with SQL (services/projector, docs/interactions.md).
 */
export const PostgresProjectionConfig = z
  .object({
    /** Default false: nothing is written to PostgreSQL. */
    enabled: z.boolean().default(false),
    /** Environment variable holding the connection URL (it carries the password, so never the file). Default `SB_POSTGRES_URL`. */
    urlEnv: envName.default('SB_POSTGRES_URL'),
    /** Durable JetStream consumer name prefix (`<prefix>_interactions`, `<prefix>_feedback`). Default `sb_postgres_projector`. */
    consumer: durableName.default('sb_postgres_projector'),
    /** Messages per fetch and per transaction. Default 500. */
    batchSize: z.number().int().min(1).max(5_000).default(500),
    /** Longest wait for a batch to fill before writing what arrived. Default 1000 ms (JetStream's minimum fetch expiry). */
    flushMs: z.number().int().min(1_000).max(60_000).default(1_000),
    /** Backoff while PostgreSQL is unreachable: first wait; it doubles up to `maxBackoffMs`. Default 250 ms. */
    initialBackoffMs: z.number().int().positive().default(250),
    /** Default 10 000 ms. */
    maxBackoffMs: z.number().int().positive().default(10_000),
    /** How long JetStream waits for an ack before redelivering. Default 60 000 ms. */
    ackWaitMs: z.number().int().min(1_000).default(60_000),
  })
  .refine((c) => c.maxBackoffMs < c.ackWaitMs, {
    // A held batch is kept ours with an in-progress ack on every retry; a longer pause would let JetStream hand it elsewhere.
    path: ['maxBackoffMs'],
    message: 'must be below ackWaitMs',
  });
export type PostgresProjectionConfig = z.infer<typeof PostgresProjectionConfig>;

export const InteractionsConfig = z.object({
  /** Off by default. */
  postgres: PostgresProjectionConfig.default(PostgresProjectionConfig.parse({})),
});
export type InteractionsConfig = z.infer<typeof InteractionsConfig>;
