/**
 * The hand-off's rules (lib/call/answer-handoff.ts), apart from any process:
 * an answer reaches only a request that expects it, a copy as the workflow's
 * result would be, and every other ending sends the request to the
 * workflow's result — including an eager task that never begins here.
 */
import { createAnswerHandoff, type AnswerHandoff, type ExpectedAnswer } from '../../lib/call/answer-handoff';
import type { LlmResult } from '../../schemas/llm';

const answer = { callId: 'c1', text: 'hi', ttftMs: undefined } as unknown as LlmResult;

test('an eagerly started call whose task begins here gets the released answer, as the JSON the workflow result is', async () => {
  const handoff = createAnswerHandoff();
  const expected = handoff.expect('c1');
  expected.started(true);
  expect(handoff.begin('c1')).toBe(true);
  handoff.release('c1', answer);
  const handed = await expected.answer;
  expect(handed).toEqual({ callId: 'c1', text: 'hi' });
  expect(handed).not.toHaveProperty('ttftMs');
  // Settled once: a second release, or one for a call nobody expects, goes nowhere.
  expect(handoff.begin('c1')).toBe(false);
  expect(handoff.begin('other')).toBe(false);
});

test.each([
  ['not started eagerly', (_h: AnswerHandoff, e: ExpectedAnswer) => e.started(false)],
  [
    'released without an answer',
    (h: AnswerHandoff, e: ExpectedAnswer) => {
      e.started(true);
      h.begin('c1');
      h.release('c1', undefined);
    },
  ],
  ['disposed (the start failed)', (_h: AnswerHandoff, e: ExpectedAnswer) => e.dispose()],
])('%s: the request waits for the workflow result', async (_name, end) => {
  const handoff = createAnswerHandoff();
  const expected = handoff.expect('c1');
  end(handoff, expected);
  expect(await expected.answer).toBeUndefined();
  handoff.release('c1', answer);
  expect(handoff.begin('c1')).toBe(false);
});

test('an eager task that does not begin here in time: the request stops counting on the hand-off; one that began is waited for', async () => {
  const handoff = createAnswerHandoff({ beginWithinMs: 20 });
  const never = handoff.expect('never');
  never.started(true);
  expect(await never.answer).toBeUndefined();

  const slow = handoff.expect('slow');
  slow.started(true);
  handoff.begin('slow');
  await new Promise((resolve) => setTimeout(resolve, 60));
  handoff.release('slow', answer);
  expect(await slow.answer).toEqual({ callId: 'c1', text: 'hi' });
});

test('two requests for one call (a retry with the same Idempotency-Key, joined while it runs): the eager one gets the answer', async () => {
  const handoff = createAnswerHandoff({ beginWithinMs: 1_000 });
  const first = handoff.expect('c1');
  first.started(true);
  const joined = handoff.expect('c1');
  joined.started(false);
  expect(await joined.answer).toBeUndefined();
  expect(handoff.begin('c1')).toBe(true);
  handoff.release('c1', answer);
  expect(await first.answer).toEqual({ callId: 'c1', text: 'hi' });
  expect(handoff.begin('c1')).toBe(false);
});
