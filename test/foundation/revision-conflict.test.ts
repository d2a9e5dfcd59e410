import { isRevisionConflict } from '../../lib/nats/kv';

/** A JetStream API error as nats.js throws it: the server's error under `api_error`. */
const apiError = (code: number, err_code: number, description: string) => Object.assign(new Error(description), { api_error: { code, err_code, description } });

describe('isRevisionConflict', () => {
  it.each([
    ['wrong last sequence: <seq> (a single server, or a clustered stream after the proposal)', apiError(400, 10071, 'wrong last sequence: 12'), true],
    ['wrong last sequence (a clustered stream while another write to the key is in flight)', apiError(400, 10164, 'wrong last sequence'), true],
    ['no responders: the stream has no leader', apiError(503, 10008, 'JetStream system temporarily unavailable'), false],
    ['a timeout', new Error('TIMEOUT'), false],
    ['an err_code that is not a number', Object.assign(new Error('x'), { api_error: { err_code: '10071' } }), false],
    ['nothing', undefined, false],
    ['null', null, false],
  ])('%s → %s', (_, error, expected) => {
    expect(isRevisionConflict(error)).toBe(expected);
  });
});
