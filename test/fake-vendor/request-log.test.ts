import type { VendorRequestRecord } from '../../schemas/fake-vendor';
import { createRequestLog } from '../../services/fake-vendor/request-log';

const record = (id: number, organisation = 'o'): VendorRequestRecord => ({
  id: `r${id}`,
  time: id,
  protocol: 'openai',
  path: '/v1/chat/completions',
  organisation,
  keyName: 'k',
  model: 'm',
  stream: false,
  fault: null,
  faults: [],
  status: 200,
  promptHash: null,
  promptChars: 0,
  promptTokens: 0,
  completionTokens: 0,
});

describe('request log', () => {
  it('keeps the newest records up to its capacity, oldest first', () => {
    const log = createRequestLog({ capacity: 3000, maxPromptChars: 100 });
    for (let i = 0; i < 5000; i++) log.append(record(i), `prompt ${i}`);
    const { count, records } = log.query();
    expect(count).toBe(3000);
    expect(records[0]?.id).toBe('r2000');
    expect(records.at(-1)?.id).toBe('r4999');
  });

  it('filters by organisation, time and case-insensitive substrings; limits to the newest', () => {
    const log = createRequestLog({ capacity: 10, maxPromptChars: 100 });
    log.append(record(1, 'a'), 'Alice@Example.com wants a TRANSPARENT png');
    log.append(record(2, 'b'), 'transparent again');
    log.append(record(3, 'a'), 'opaque');
    expect(log.query({ contains: ['transparent'] }).count).toBe(2);
    expect(log.query({ contains: ['transparent', 'alice@example.com'] }).records.map((r) => r.id)).toEqual(['r1']);
    expect(log.query({ organisation: 'a', since: 2 }).records.map((r) => r.id)).toEqual(['r3']);
    expect(log.query({ limit: 2 })).toMatchObject({ count: 3, records: [{ id: 'r2' }, { id: 'r3' }] });
    expect(log.query({ organisation: 'b', includePrompt: true }).records[0]?.promptText).toBe('transparent again');
  });

  it('bounds the stored prompt text and resets', () => {
    const log = createRequestLog({ capacity: 10, maxPromptChars: 5 });
    log.append(record(1), 'abcdefgh');
    expect(log.query({ includePrompt: true }).records[0]?.promptText).toBe('abcde');
    expect(log.query({ contains: ['fgh'] }).count).toBe(0);
    log.reset();
    expect(log.size).toBe(0);
  });

  it('shows later updates to a record (status set when the response is sent)', () => {
    const log = createRequestLog({ capacity: 10, maxPromptChars: 5 });
    const r: VendorRequestRecord = { ...record(1), status: null };
    log.append(r, '');
    r.status = 503;
    expect(log.query().records[0]?.status).toBe(503);
  });
});
