/**
 * Writes one projection batch in one transaction: interactions upserted by
 * call id, feedback by its event id, rejects by stream position, then the
 * latest verdict copied onto each touched interaction row. Every statement is
 * idempotent, so a redelivered batch changes nothing.
 *
 * Rows travel as one jsonb parameter (`jsonb_to_recordset`): one round trip
 * per table whatever the batch size, and no 65 535-parameter ceiling.
 */
import type { PoolClient } from 'pg';
import { feedbackColumns, interactionColumns, rejectColumns, type ProjectionBatch } from './postgres-rows';

/**
 * Every batch transaction takes this lock first. Without it an interaction
 * and its feedback committed at the same moment by two transactions would
 * each miss the other's row, and the verdict would never reach the
 * interaction. One writer at a time costs little: a batch is one short
 * transaction.
 */
const WRITE_LOCK = 5_374_117_002;

function recordset(columns: ReadonlyArray<readonly [string, string]>): { names: string; definition: string } {
  return {
    names: columns.map(([name]) => name).join(', '),
    definition: columns.map(([name, type]) => `${name} ${type}`).join(', '),
  };
}

const interactionSet = recordset(interactionColumns);
const updatable = interactionColumns.filter(([name]) => name !== 'call_id').map(([name]) => `${name} = EXCLUDED.${name}`);

// A record published twice for one call (a re-run, not a redelivery) keeps the later one; an older redelivery never overwrites it.
const UPSERT_INTERACTIONS = `
INSERT INTO interactions (${interactionSet.names})
SELECT ${interactionSet.names} FROM jsonb_to_recordset($1::jsonb) AS r(${interactionSet.definition})
ON CONFLICT (call_id) DO UPDATE SET ${updatable.join(', ')}, projected_at = now()
WHERE interactions.stream_seq <= EXCLUDED.stream_seq`;

const feedbackSet = recordset(feedbackColumns);
const INSERT_FEEDBACK = `
INSERT INTO feedback (${feedbackSet.names})
SELECT ${feedbackSet.names} FROM jsonb_to_recordset($1::jsonb) AS r(${feedbackSet.definition})
ON CONFLICT (feedback_id) DO NOTHING`;

const rejectSet = recordset(rejectColumns);
const INSERT_REJECTS = `
INSERT INTO projection_rejects (${rejectSet.names})
SELECT ${rejectSet.names} FROM jsonb_to_recordset($1::jsonb) AS r(${rejectSet.definition})
ON CONFLICT (stream, stream_seq) DO NOTHING`;

// The latest verdict by its time (stream order breaks ties), and only the interaction's own tenant's.
const COPY_LATEST_VERDICT = `
UPDATE interactions i SET inserted = f.inserted, feedback_note = f.note, feedback_at = f.given_at
FROM (
  SELECT DISTINCT ON (call_id, tenant) call_id, tenant, inserted, note, given_at
  FROM feedback WHERE call_id = ANY($1::text[])
  ORDER BY call_id, tenant, given_at DESC, stream_seq DESC
) f
WHERE i.call_id = f.call_id AND i.tenant = f.tenant
  AND (i.feedback_at IS DISTINCT FROM f.given_at OR i.inserted IS DISTINCT FROM f.inserted OR i.feedback_note IS DISTINCT FROM f.note)`;

/** PostgreSQL text cannot hold NUL (jsonb refuses \u0000): one stray byte in an input must not block the projection. */
function rowsParameter(rows: readonly unknown[]): string {
  return JSON.stringify(rows, (_key, value: unknown) => (typeof value === 'string' ? value.replaceAll('\u0000', '\uFFFD') : value));
}

/** SQLSTATE classes 22 (data exception) and 23 (integrity): this batch's content is at fault, not the connection. */
export function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

export async function writeProjectionBatch(client: PoolClient, batch: ProjectionBatch): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [WRITE_LOCK]);
    if (batch.interactions.length) await client.query(UPSERT_INTERACTIONS, [rowsParameter(batch.interactions)]);
    if (batch.feedback.length) await client.query(INSERT_FEEDBACK, [rowsParameter(batch.feedback)]);
    if (batch.rejects.length) await client.query(INSERT_REJECTS, [rowsParameter(batch.rejects)]);
    const touched = [...new Set([...batch.interactions.map((r) => r.call_id), ...batch.feedback.map((r) => r.call_id)])];
    if (touched.length) await client.query(COPY_LATEST_VERDICT, [touched]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
