import type { PiiEntity } from '../../schemas/validation';
import { placeholderCore } from './placeholder';

// Restoring placeholders in answers, whole or streamed. One scanner serves
// both, so a streamed answer restores exactly like the same text at once.
//
// Besides the exact placeholder `[[EMAIL_1_k3f9x2ab]]`, the scanner accepts the
// forms a model produces when it drops markup: `[EMAIL_1_k3f9x2ab]` and the
// bare `EMAIL_1_k3f9x2ab`. All carry the request's nonce, which no user text
// contains, so accepting them can never rewrite the user's own words.

interface Form {
  text: string;
  value: string;
}

export interface StreamRestorer {
  /** Feeds the next chunk; returns restored text safe to emit now (possibly ''), holding back a suffix that may start a placeholder. */
  push(chunk: string): string;
  /** Ends the stream: returns whatever was held back, restored as far as it can be. */
  flush(): string;
  /** The raw text fed but not emitted yet (a possible placeholder's start). */
  held(): string;
}

/** Forms grouped by first character, longest first, so a scan position tries only what could start there. */
function indexForms(entities: ReadonlyArray<PiiEntity>): Map<string, Form[]> {
  const byFirst = new Map<string, Form[]>();
  for (const { placeholder, value } of entities) {
    const core = placeholderCore(placeholder);
    for (const text of [placeholder, `[${core}]`, core]) {
      const first = text[0] ?? '';
      byFirst.set(first, [...(byFirst.get(first) ?? []), { text, value }]);
    }
  }
  for (const forms of byFirst.values()) forms.sort((a, b) => b.text.length - a.text.length);
  return byFirst;
}

/**
 * Restores `buffer` from the start. When `final` is false it stops at the
 * first position where the rest of the buffer is a proper prefix of a form —
 * more input could complete it — and reports that position as `held`.
 */
function scan(buffer: string, forms: Map<string, Form[]>, final: boolean): { out: string; held: number } {
  let out = '';
  let emittedUpTo = 0;
  let i = 0;
  while (i < buffer.length) {
    const candidates = forms.get(buffer[i] ?? '');
    if (candidates) {
      const full = candidates.find((form) => buffer.startsWith(form.text, i));
      if (full) {
        out += buffer.slice(emittedUpTo, i) + full.value;
        i += full.text.length;
        emittedUpTo = i;
        continue;
      }
      // Only a rest shorter than some form can be that form's unfinished start.
      if (!final && buffer.length - i < (candidates[0]?.text.length ?? 0)) {
        const rest = buffer.slice(i);
        if (candidates.some((form) => form.text.length > rest.length && form.text.startsWith(rest))) {
          return { out: out + buffer.slice(emittedUpTo, i), held: i };
        }
      }
    }
    i += 1;
  }
  return { out: out + buffer.slice(emittedUpTo), held: buffer.length };
}

/** Replaces every placeholder of `entities` in `text` with its original value. */
export function restorePii(text: string, entities: ReadonlyArray<PiiEntity>): string {
  if (entities.length === 0) return text;
  return scan(text, indexForms(entities), true).out;
}

/**
 * A restorer for one streamed text (the answer's content, or one tool call's
 * arguments: use one restorer per stream). Concatenating every `push` result
 * and `flush()` equals `restorePii` of the concatenated chunks, however the
 * chunks split the placeholders. It holds back at most one placeholder's
 * length. Plain state, no timers: safe in activities and workflows.
 */
export function createStreamRestorer(entities: ReadonlyArray<PiiEntity>): StreamRestorer {
  const forms = indexForms(entities);
  let pending = '';
  return {
    push(chunk) {
      if (entities.length === 0) return chunk;
      const buffer = pending + chunk;
      const { out, held } = scan(buffer, forms, false);
      pending = buffer.slice(held);
      return out;
    },
    flush() {
      const { out } = scan(pending, forms, true);
      pending = '';
      return out;
    },
    held: () => pending,
  };
}
