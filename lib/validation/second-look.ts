import type { Message } from '../../schemas/llm';

// The optional model-based second look ("are you sure?"), off by default
// (`OutputValidation.secondLook`). The workflow sends these messages as one
// more attempt and reads the verdict; a rejection counts like a validation
// failure and its reason becomes a custom repair instruction.

export interface SecondLookVerdict {
  approved: boolean;
  /** The reviewer's reason when it rejects; absent on approval. */
  reason?: string;
}

const reviewerPrompt = [
  'You review answers produced by another assistant before a user sees them.',
  'Reply with exactly one line: either APPROVE, or REJECT: followed by one short sentence saying what is wrong.',
].join('\n');

/** A self-contained review conversation about `answer` to the request in `messages` (already masked, as sent to the vendor). */
export function secondLookMessages(messages: ReadonlyArray<Message>, answer: string): Message[] {
  const request = messages
    .filter((message) => message.role === 'system' || message.role === 'user')
    .map((message) => `[${message.role}]\n${message.content}`)
    .join('\n\n');
  return [
    { role: 'system', content: reviewerPrompt },
    { role: 'user', content: `Request:\n${request}\n\nAnswer to review:\n${answer}\n\nIs the answer correct, complete and in the requested form?` },
  ];
}

/**
 * Reads the reviewer's reply. Anything but a clear REJECT approves: a
 * confused reviewer must not block answers that passed every rule.
 */
export function parseSecondLookVerdict(reply: string): SecondLookVerdict {
  const match = /^\s*\**\s*REJECT\b\**\s*[:\-–—]?\s*(.*)$/imu.exec(reply);
  if (!match) return { approved: true };
  const reason = (match[1] ?? '').trim();
  return { approved: false, reason: reason === '' ? 'the reviewer rejected the answer' : reason };
}
