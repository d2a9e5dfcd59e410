/**
 * The PostgreSQL schema of the interaction projection, as numbered
 * migrations. Applied in order by the projector at start-up (and on every
 * reconnect until they have run), each in its own transaction, under an
 * advisory lock so two projectors starting together do not race. A new
 * change is a new entry at the end; an applied entry is never edited.
 *
 * `npm run projector -- --print-schema` prints them for a DBA who prefers to
 * apply them by hand.
 */
import type { PoolClient } from 'pg';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'interactions and feedback',
    sql: `
CREATE TABLE interactions (
  call_id         text PRIMARY KEY,
  finished_at     timestamptz NOT NULL,
  tenant          text NOT NULL,
  user_id         text,
  feature         text,
  route           text NOT NULL,
  provider        text NOT NULL,
  model           text NOT NULL,
  upstream        text NOT NULL,
  prompt_variant  text NOT NULL,
  input           text NOT NULL,
  enhanced_prompt text,
  prompt_as_sent  text NOT NULL,
  output          text NOT NULL,
  attempts        integer NOT NULL,
  latency_ms      double precision NOT NULL,
  ttft_ms         double precision,
  input_tokens    integer NOT NULL,
  output_tokens   integer NOT NULL,
  cost_usd        numeric(20, 10) NOT NULL,
  language        text NOT NULL,
  cache_hit       boolean NOT NULL,
  validation      text NOT NULL,
  -- the record exactly as it was on the stream, fields added later included
  raw             jsonb NOT NULL,
  stream_seq      bigint NOT NULL,
  projected_at    timestamptz NOT NULL DEFAULT now(),
  -- the latest verdict (by its time) from the feedback table
  inserted        boolean,
  feedback_note   text,
  feedback_at     timestamptz
);
CREATE INDEX interactions_tenant_finished ON interactions (tenant, finished_at);
CREATE INDEX interactions_tenant_feature_finished ON interactions (tenant, feature, finished_at);

CREATE TABLE feedback (
  -- sha-256 of (tenant, call id, time, verdict, note): the same event redelivered is one row
  feedback_id  text PRIMARY KEY,
  call_id      text NOT NULL,
  tenant       text NOT NULL,
  inserted     boolean NOT NULL,
  note         text,
  given_at     timestamptz NOT NULL,
  raw          jsonb NOT NULL,
  stream_seq   bigint NOT NULL,
  projected_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX feedback_call ON feedback (call_id, given_at);

-- messages that failed to parse: kept, not lost, and never retried forever
CREATE TABLE projection_rejects (
  stream       text NOT NULL,
  stream_seq   bigint NOT NULL,
  subject      text NOT NULL,
  error        text NOT NULL,
  payload      text NOT NULL,
  rejected_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream, stream_seq)
);
`,
  },
  {
    version: 2,
    name: 'failed calls are interactions too',
    sql: `
ALTER TABLE interactions ADD COLUMN outcome text NOT NULL DEFAULT 'answered';
ALTER TABLE interactions ADD COLUMN error text;
`,
  },
];

/** Any fixed 64-bit number no other tool uses for pg_advisory_xact_lock on the same database. */
const MIGRATION_LOCK = 5_374_117_001;

const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS sb_schema_migrations (
  version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`;

/** Applies the migrations not yet recorded in `sb_schema_migrations`; returns the versions it applied. */
export async function migrate(client: PoolClient): Promise<number[]> {
  const applied: number[] = [];
  for (const migration of migrations) {
    await client.query('BEGIN');
    try {
      // Lock first: even the bookkeeping table's creation races between two projectors starting at once.
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await client.query(MIGRATIONS_TABLE);
      const done = await client.query('SELECT 1 FROM sb_schema_migrations WHERE version = $1', [migration.version]);
      if (done.rowCount === 0) {
        await client.query(migration.sql);
        await client.query('INSERT INTO sb_schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
        applied.push(migration.version);
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }
  return applied;
}

/** Every migration as one psql script that records itself as the projector would (for `--print-schema`). */
export function schemaScript(): string {
  const steps = migrations.map(
    (m) =>
      `-- migration ${m.version}: ${m.name}\nBEGIN;\n${m.sql.trim()}\n` +
      `INSERT INTO sb_schema_migrations (version, name) VALUES (${m.version}, '${m.name.replace(/'/g, "''")}');\nCOMMIT;\n`,
  );
  return [`${MIGRATIONS_TABLE};\n`, ...steps].join('\n');
}
