import { describePostgresUrl, postgresUrlSecrets, resolvePostgresUrl } from '../../lib/interactions/postgres-connection';
import { schemaScript } from '../../lib/interactions/postgres-migrations';
import { feedbackId, feedbackRow, interactionRow, lastPerKey, toBatch, type StreamMessage } from '../../lib/interactions/postgres-rows';
import { PostgresProjectionConfig } from '../../schemas/interaction-store';
import type { Feedback, Interaction } from '../../schemas/interaction';

const encoder = new TextEncoder();
const message = (body: unknown, seq = 7, stream = 'SB_INTERACTIONS'): StreamMessage => ({
  stream,
  seq,
  subject: stream === 'SB_INTERACTIONS' ? 'sb.interaction.acme' : 'sb.feedback.acme',
  data: encoder.encode(typeof body === 'string' ? body : JSON.stringify(body)),
});

const interaction: Interaction = {
  callId: 'call-acme-1',
  at: Date.UTC(2026, 10, 22, 12, 0, 0),
  tenant: 'acme',
  user: 'u-1',
  feature: 'headline',
  route: 'chat-default',
  provider: 'openai',
  model: 'gpt-4o-mini',
  upstream: 'openai/org-a',
  promptVariant: 'assistant/default',
  input: 'A headline for a bakery',
  promptAsSent: 'system: You are concise.\nuser: A headline for a bakery',
  output: 'Fresh bread daily',
  attempts: 2,
  latencyMs: 140,
  ttftMs: 35,
  inputTokens: 20,
  outputTokens: 4,
  costUsd: 0.0000054,
  language: 'en',
  cacheHit: false,
  validation: 'passed',
};

describe('PostgreSQL projection rows', () => {
  it('maps every interaction field to its column and keeps the record as sent', () => {
    const withExtra = { ...interaction, someFieldAddedLater: 42 };
    const mapped = interactionRow(message(withExtra));
    if (!('row' in mapped)) throw new Error('expected a row');
    expect(mapped.row).toEqual({
      call_id: 'call-acme-1',
      finished_at: '2026-11-22T12:00:00.000Z',
      tenant: 'acme',
      user_id: 'u-1',
      feature: 'headline',
      route: 'chat-default',
      provider: 'openai',
      model: 'gpt-4o-mini',
      upstream: 'openai/org-a',
      prompt_variant: 'assistant/default',
      input: 'A headline for a bakery',
      enhanced_prompt: null,
      prompt_as_sent: interaction.promptAsSent,
      output: 'Fresh bread daily',
      attempts: 2,
      latency_ms: 140,
      ttft_ms: 35,
      input_tokens: 20,
      output_tokens: 4,
      cost_usd: 0.0000054,
      language: 'en',
      cache_hit: false,
      validation: 'passed',
      outcome: 'answered',
      error: null,
      raw: withExtra,
      stream_seq: 7,
    });
  });

  it('maps a failed call: its outcome and error, no output', () => {
    const failed = {
      ...interaction,
      output: '',
      inputTokens: 0,
      outputTokens: 0,
      costUsd: 0,
      outcome: 'failed',
      error: 'every upstream of chat-default failed',
    };
    const mapped = interactionRow(message(failed));
    if (!('row' in mapped)) throw new Error('expected a row');
    expect(mapped.row).toMatchObject({ outcome: 'failed', error: 'every upstream of chat-default failed', output: '' });
  });

  it('turns unparseable messages into rejects that name the field', () => {
    const notJson = interactionRow(message('{"callId": '));
    expect('reject' in notJson && notJson.reject.error).toMatch(/^not JSON/);
    const missing = interactionRow(message({ ...interaction, tenant: undefined }, 9));
    if (!('reject' in missing)) throw new Error('expected a reject');
    expect(missing.reject).toMatchObject({ stream: 'SB_INTERACTIONS', stream_seq: 9, subject: 'sb.interaction.acme' });
    expect(missing.reject.error).toMatch(/^tenant: /);
    expect(missing.reject.payload).toContain('call-acme-1');
  });

  it('gives a feedback event the same id wherever it is delivered, and another id to another verdict', () => {
    const verdict: Feedback = { callId: 'call-acme-1', tenant: 'acme', inserted: true, note: 'kept', at: 1_000 };
    const first = feedbackRow(message(verdict, 3, 'SB_FEEDBACK'));
    const again = feedbackRow(message(verdict, 98, 'SB_FEEDBACK'));
    if (!('row' in first) || !('row' in again)) throw new Error('expected rows');
    expect(first.row.feedback_id).toBe(again.row.feedback_id);
    expect(first.row).toMatchObject({
      call_id: 'call-acme-1',
      tenant: 'acme',
      inserted: true,
      note: 'kept',
      given_at: '1970-01-01T00:00:01.000Z',
      stream_seq: 3,
    });
    expect(feedbackId({ ...verdict, inserted: false })).not.toBe(first.row.feedback_id);
    expect(feedbackId({ ...verdict, tenant: 'globex' })).not.toBe(first.row.feedback_id);
  });

  it('keeps the latest row per key in a batch (one upsert may not touch a row twice)', () => {
    const rows = [
      { k: 'a', stream_seq: 1 },
      { k: 'b', stream_seq: 2 },
      { k: 'a', stream_seq: 5 },
      { k: 'a', stream_seq: 3 },
    ];
    expect(lastPerKey(rows, (r) => r.k)).toEqual([
      { k: 'a', stream_seq: 5 },
      { k: 'b', stream_seq: 2 },
    ]);
    const batch = toBatch([message(interaction, 1), message({ ...interaction, output: 'v2' }, 2), message('nope', 3)], () => 'interaction');
    expect(batch.interactions.map((r) => r.output)).toEqual(['v2']);
    expect(batch.rejects.map((r) => r.stream_seq)).toEqual([3]);
  });

  it('ships a schema script that records its own migrations', () => {
    const sql = schemaScript();
    expect(sql).toContain('CREATE TABLE interactions');
    expect(sql).toContain('CREATE TABLE feedback');
    expect(sql).toMatch(/INSERT INTO sb_schema_migrations \(version, name\) VALUES \(1, /);
  });
});

describe('PostgreSQL URL handling', () => {
  const settings = PostgresProjectionConfig.parse({ enabled: true });
  const secretUrl = 'postgres://projector:s3cr%2Fet-pw@db.internal:5432/switchboard?sslmode=require';

  it('reads the URL only from the variable the config names; errors name the variable, never the value', () => {
    expect(settings).toMatchObject({ enabled: true, urlEnv: 'SB_POSTGRES_URL', consumer: 'sb_postgres_projector', batchSize: 500 });
    expect(PostgresProjectionConfig.parse({})).toMatchObject({ enabled: false });
    expect(resolvePostgresUrl(settings, { SB_POSTGRES_URL: secretUrl })).toBe(secretUrl);
    expect(() => resolvePostgresUrl(settings, {})).toThrow(/missing SB_POSTGRES_URL in the environment \(interactions\.postgres\.urlEnv\)/);
    for (const bad of ['mysql://u:hunter2-pw@h/db', 'hunter2-pw not a url']) {
      let message = '';
      try {
        resolvePostgresUrl(settings, { SB_POSTGRES_URL: bad });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/SB_POSTGRES_URL/);
      expect(message).not.toContain('hunter2');
    }
  });

  it('describes a URL without its password and lists the password in both spellings', () => {
    expect(describePostgresUrl(secretUrl)).toBe('postgres://projector@db.internal:5432/switchboard');
    expect(postgresUrlSecrets(secretUrl)).toEqual(['s3cr%2Fet-pw', 's3cr/et-pw']);
    expect(postgresUrlSecrets('postgres://u@h/db')).toEqual([]);
  });

  it('rejects a bad config naming the field', () => {
    const parsed = PostgresProjectionConfig.safeParse({ urlEnv: 'lower-case', batchSize: 0 });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => i.path.join('.'))).toEqual(['urlEnv', 'batchSize']);
    const slowRetry = PostgresProjectionConfig.safeParse({ maxBackoffMs: 90_000, ackWaitMs: 60_000 });
    expect(slowRetry.error?.issues).toEqual([expect.objectContaining({ path: ['maxBackoffMs'], message: 'must be below ackWaitMs' })]);
  });
});
