import type { JudgedInteraction } from '../../schemas/interaction';

const STOP = new Set(
  "the and for with this that you your are our from have has was were will can not but all any about into over than then them they their there what when which who why how its it's please make write give create short long some more very just also one two".split(
    ' ',
  ),
);

/** Content words of a (masked) input: lower-case, ≥ 3 letters, no stop words, nothing in `[[…]]` (PII placeholders, markup). */
export function termsOf(text: string): string[] {
  const words =
    text
      .toLowerCase()
      .replace(/\[\[[^\]]*\]\]/g, ' ')
      .match(/\p{L}[\p{L}\p{N}'-]{2,}/gu) ?? [];
  return [...new Set(words.filter((w) => !STOP.has(w)))];
}

/** Output length as a coarse bucket (≤ 6 words, ≤ 25, more), so "answers that are too long" becomes a feature. */
function outputLengthBucket(output: string): 'short' | 'medium' | 'long' {
  const words = output.trim().split(/\s+/).filter(Boolean).length;
  return words <= 6 ? 'short' : words <= 25 ? 'medium' : 'long';
}

/** Attribute features: single attributes and the feature × output-length pair. */
function attributesOf(i: JudgedInteraction): string[] {
  const length = outputLengthBucket(i.output);
  return [
    ...(i.feature ? [`feature=${i.feature}`, `feature=${i.feature}&output=${length}`] : []),
    `route=${i.route}`,
    `provider=${i.provider}`,
    `model=${i.model}`,
    `variant=${i.promptVariant}`,
    `language=${i.language}`,
    `output=${length}`,
    ...(i.validation !== 'none' ? [`validation=${i.validation}`] : []),
  ];
}

/** Every feature of an interaction: `term:<word>` and `attr:<key=value>`. */
export function featuresOf(i: JudgedInteraction): string[] {
  return [...termsOf(i.input).map((t) => `term:${t}`), ...attributesOf(i).map((a) => `attr:${a}`)];
}
