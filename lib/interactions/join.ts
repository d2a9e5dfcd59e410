/** Joins interaction records with the callers' verdicts. Pure. */
import type { Feedback, Interaction, JudgedInteraction } from '../../schemas/interaction';

/**
 * One JudgedInteraction per interaction (the first record of a call id wins:
 * a re-published record is the same call). The latest verdict of the same
 * tenant wins (by `at`, then by stream order); feedback whose call id has no
 * interaction here never becomes one.
 */
export function joinFeedback(interactions: readonly Interaction[], feedback: readonly Feedback[]): JudgedInteraction[] {
  // Keyed by tenant too: a verdict never crosses tenants, even if a call id did.
  const keyOf = (tenant: string, callId: string) => `${tenant}\u0000${callId}`;
  const latest = new Map<string, Feedback>();
  for (const verdict of feedback) {
    const key = keyOf(verdict.tenant, verdict.callId);
    const seen = latest.get(key);
    if (!seen || verdict.at >= seen.at) latest.set(key, verdict);
  }
  const seenCalls = new Set<string>();
  const judged: JudgedInteraction[] = [];
  for (const interaction of interactions) {
    if (seenCalls.has(interaction.callId)) continue;
    seenCalls.add(interaction.callId);
    const verdict = latest.get(keyOf(interaction.tenant, interaction.callId));
    if (!verdict) judged.push({ ...interaction });
    else judged.push({ ...interaction, inserted: verdict.inserted, ...(verdict.note !== undefined ? { note: verdict.note } : {}) });
  }
  return judged;
}
