/**
 * A stream that resumes another: the text its caller already has is not
 * sent again. The new answer's first characters must be that text (a
 * deterministic route, the same model at temperature 0, a cached answer);
 * only what follows is streamed. At the first character that differs the
 * attempt stops: a diverging answer is never spliced onto the text sent.
 * Also what a broken stream's caller has — the next attempt's `resume`.
 */

/** The new answer does not begin with the text the caller already has. */
export class StreamDiverged extends Error {
  override readonly name = 'StreamDiverged';
}

export function isStreamDiverged(error: unknown): error is StreamDiverged {
  return error instanceof Error && error.name === 'StreamDiverged';
}

export interface StreamedText {
  /** One raw delta from the vendor: the part to stream on ('' while still inside the text sent). Throws StreamDiverged. */
  feed(delta: string): string;
  /** The answer ended: throws StreamDiverged when it stopped short of the text already sent. */
  end(): void;
  /** The raw text the caller has so far, less `held` (fed but not emitted yet, e.g. a possible PII placeholder). */
  delivered(held: string): string;
  /** The whole answer: what the caller had, then what this attempt added. */
  whole(vendorText: string): string;
}

/**
 * `continuation`: the vendor was given the text sent as an assistant prefill
 * (without its trailing whitespace, which vendors refuse) and writes only
 * what follows; whitespace it repeats at the seam is dropped.
 */
export function createStreamedText(resumeText = '', o: { continuation?: boolean } = {}): StreamedText {
  if (o.continuation) return continuationOf(resumeText);
  let fed = '';
  return {
    feed(delta) {
      const before = fed.length;
      fed += delta;
      if (fed.length <= resumeText.length) {
        if (!resumeText.startsWith(fed))
          throw new StreamDiverged(`the new answer differs from the text already sent at character ${firstDifference(fed, resumeText)}`);
        return '';
      }
      if (before < resumeText.length && !fed.startsWith(resumeText))
        throw new StreamDiverged(`the new answer differs from the text already sent at character ${firstDifference(fed, resumeText)}`);
      return before >= resumeText.length ? delta : fed.slice(resumeText.length);
    },
    end() {
      if (fed.length < resumeText.length)
        throw new StreamDiverged(`the new answer ended after ${fed.length} of the ${resumeText.length} characters already sent`);
    },
    delivered(held) {
      const emitted = fed.slice(0, fed.length - held.length);
      return emitted.length > resumeText.length ? emitted : resumeText;
    },
    whole: (vendorText) => vendorText,
  };
}

/** The text a prefill leaves out: what the caller has beyond `resumeText.trimEnd()`. */
export function prefillOf(resumeText: string): string {
  return resumeText.trimEnd();
}

function continuationOf(resumeText: string): StreamedText {
  let seam = resumeText.length - prefillOf(resumeText).length;
  let added = '';
  return {
    feed(delta) {
      let out = delta;
      while (seam > 0 && out.length > 0 && /\s/.test(out[0]!)) {
        out = out.slice(1);
        seam--;
      }
      if (out.length > 0) seam = 0;
      added += out;
      return out;
    },
    end() {},
    delivered: (held) => resumeText + added.slice(0, added.length - held.length),
    whole: () => resumeText + added,
  };
}

function firstDifference(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}
