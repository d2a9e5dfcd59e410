import { parseSecondLookVerdict, repairInstruction, secondLookMessages, validateOutput } from '../../lib/validation';
import type { OutputValidationInput, ValidationFailure } from '../../schemas/validation';

function failuresOf(text: string, config: OutputValidationInput): ValidationFailure[] {
  const result = validateOutput(text, config);
  if (result.ok) throw new Error('expected a failure');
  return result.failures;
}

describe('repairInstruction', () => {
  it.each<[string, string, OutputValidationInput, string]>([
    [
      'a button that came back as a sentence',
      'one two three four five six seven',
      { contentKind: 'button', bounds: { maxChars: 100 } },
      'Your answer had 7 words; a button text must have at most 4 words.\nReply with the button text only.',
    ],
    [
      'a long heading',
      'x'.repeat(95),
      { contentKind: 'heading' },
      'Your answer had 95 characters; a heading must have at most 90 characters.\nReply with the heading only.',
    ],
    [
      'a one-word paragraph',
      'Hello',
      { contentKind: 'paragraph', bounds: { minWords: 20 } },
      'Your answer had 1 word; a paragraph must have at least 20 words.\nReply with the paragraph only.',
    ],
    ['an empty answer', '', {}, 'Your answer was empty.\nReply with the corrected answer only.'],
    [
      'prose instead of JSON',
      'Sure, here you go',
      { json: true },
      expect.stringMatching(
        /^Your answer was not valid JSON \(.+\)\.\nReply with the corrected JSON only: no code fences, no commentary\.$/,
      ) as unknown as string,
    ],
  ])('%s', (_name, text, config, expected) => {
    expect(repairInstruction(failuresOf(text, config), config)).toEqual(expected);
  });

  it('names the schema path and does not double a period', () => {
    const failures: ValidationFailure[] = [
      { rule: 'json_schema', path: '$.items[0].name', message: 'Invalid input: expected string, received number' },
      { rule: 'custom', message: 'mentions a competitor.' },
    ];
    expect(repairInstruction(failures, {})).toBe(
      [
        'Your JSON did not match the required schema at $.items[0].name: Invalid input: expected string, received number.',
        'Your answer was rejected: mentions a competitor.',
        'Reply with the corrected JSON only: no code fences, no commentary.',
      ].join('\n'),
    );
  });

  it('is deterministic', () => {
    const failures = failuresOf('one two three four five', { contentKind: 'button' });
    expect(repairInstruction(failures, { contentKind: 'button' })).toBe(repairInstruction(failures, { contentKind: 'button' }));
  });
});

describe('second look', () => {
  it('builds a self-contained review conversation from the request as sent', () => {
    const messages = secondLookMessages(
      [
        { role: 'system', content: 'You write button texts.' },
        { role: 'user', content: 'A button for the newsletter' },
        { role: 'assistant', content: 'ignored earlier turn' },
      ],
      'Subscribe',
    );
    expect(messages.map((m) => m.role)).toEqual(['system', 'user']);
    expect(messages[1]?.content).toContain('[system]\nYou write button texts.');
    expect(messages[1]?.content).toContain('Answer to review:\nSubscribe');
    expect(messages[1]?.content).not.toContain('ignored earlier turn');
  });

  it.each([
    ['APPROVE', { approved: true }],
    ['approve.', { approved: true }],
    ['I am not sure', { approved: true }],
    ['REJECT: the text is in French', { approved: false, reason: 'the text is in French' }],
    ['**REJECT** — too long', { approved: false, reason: 'too long' }],
    ['Reject', { approved: false, reason: 'the reviewer rejected the answer' }],
  ])('reads %j', (reply, verdict) => {
    expect(parseSecondLookVerdict(reply)).toEqual(verdict);
  });
});
