import { randomUUID } from 'node:crypto';
import { setFailover } from '../../lib/control/failover';
import { eventually, startSwitchboard, type SwitchboardUnderTest } from '../harness/switchboard';

describe('global failover switch', () => {
  let t: SwitchboardUnderTest;
  beforeAll(async () => {
    t = await startSwitchboard();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('moves new calls off a vendor within a second of the flip, and back when it is turned off', async () => {
    const m = `failover-${randomUUID().slice(0, 8)}`;
    const before = await t.sb.complete({ route: 'chat-default', messages: [{ role: 'user', content: `Before ${m}` }] });
    expect(before.provider).toBe('openai');

    await setFailover(t.nats, 'openai', { reason: 'test: OpenAI is locking accounts', by: 'jest' }, t.controlBucket);
    await eventually('the worker to see the flip', () => (t.worker!.failover.avoidedProvider() === 'openai' ? true : undefined), 20_000);

    const during = await Promise.all(
      Array.from({ length: 5 }, (_, i) => t.sb.complete({ route: 'chat-default', messages: [{ role: 'user', content: `During ${m} ${i}` }] })),
    );
    expect(during.map((r) => r.provider)).toEqual(Array(5).fill('anthropic'));
    expect(t.vendor.requests({ contains: [`During ${m}`] }).map((r) => r.protocol)).toEqual(Array(5).fill('anthropic'));

    await setFailover(t.nats, null, { by: 'jest' }, t.controlBucket);
    await eventually('the worker to see the switch off', () => (t.worker!.failover.avoidedProvider() === undefined ? true : undefined), 20_000);
    const after = await t.sb.complete({ route: 'chat-default', messages: [{ role: 'user', content: `After ${m}` }] });
    expect(after.provider).toBe('openai');
  });
});
