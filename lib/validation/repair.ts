import type { ContentKind, OutputValidationInput, ValidationFailure } from '../../schemas/validation';

// The message appended to the conversation after an invalid answer. Models
// fix what they are told precisely ("37 words; at most 4"), and drift when
// told vaguely ("too long"), so every sentence carries the measured numbers.

const subjectByKind: Record<ContentKind, string> = {
  button: 'a button text',
  heading: 'a heading',
  title: 'a title',
  paragraph: 'a paragraph',
  free: 'the answer',
};

const replyByKind: Record<ContentKind, string> = {
  button: 'Reply with the button text only.',
  heading: 'Reply with the heading only.',
  title: 'Reply with the title only.',
  paragraph: 'Reply with the paragraph only.',
  free: 'Reply with the corrected answer only.',
};

/** Ends a sentence without doubling a period the message may already have. */
function sentence(text: string): string {
  return `${text.replace(/[.\s]+$/, '')}.`;
}

function plural(countValue: number | undefined, unit: string): string {
  return `${countValue ?? '?'} ${unit}${countValue === 1 ? '' : 's'}`;
}

function describeFailure(failure: ValidationFailure, subject: string): string {
  const { actual, limit } = failure;
  switch (failure.rule) {
    case 'non_empty':
      return 'Your answer was empty.';
    case 'max_words':
      return `Your answer had ${plural(actual, 'word')}; ${subject} must have at most ${plural(limit, 'word')}.`;
    case 'min_words':
      return `Your answer had ${plural(actual, 'word')}; ${subject} must have at least ${plural(limit, 'word')}.`;
    case 'max_chars':
      return `Your answer had ${plural(actual, 'character')}; ${subject} must have at most ${plural(limit, 'character')}.`;
    case 'min_chars':
      return `Your answer had ${plural(actual, 'character')}; ${subject} must have at least ${plural(limit, 'character')}.`;
    case 'json_parse':
      return `Your answer was not valid JSON (${failure.message.replace(/^not valid JSON: /, '')}).`;
    case 'json_schema':
      return sentence(`Your JSON did not match the required schema at ${failure.path ?? '$'}: ${failure.message}`);
    case 'custom':
      return sentence(`Your answer was rejected: ${failure.message}`);
  }
}

/**
 * The user-role message asking the model to fix its previous answer: one
 * sentence per failure, then what to reply with. Deterministic (workflow-safe).
 */
export function repairInstruction(failures: ReadonlyArray<ValidationFailure>, config: OutputValidationInput): string {
  // Defaults as in OutputValidation; no zod here: this runs in workflow code.
  const contentKind = config.contentKind ?? 'free';
  const json = config.json ?? false;
  const subject = subjectByKind[contentKind];
  const isJson = json || failures.some((f) => f.rule === 'json_parse' || f.rule === 'json_schema');
  const lines = failures.map((failure) => describeFailure(failure, subject));
  lines.push(isJson ? 'Reply with the corrected JSON only: no code fences, no commentary.' : replyByKind[contentKind]);
  return lines.join('\n');
}
