/**
 * Smooth weighted round-robin over scores (nginx's algorithm): each pick goes
 * to the highest running total, which then pays back the sum, so one worker's
 * picks follow the scores exactly over a cycle and interleave instead of
 * bursting. Scores may change between picks (latency, headroom).
 */
import type { ScoredCandidate } from './selection';

export function createSmoothDraw(): (scored: readonly ScoredCandidate[]) => number {
  const current = new Map<string, number>();
  return (scored) => {
    const total = scored.reduce((sum, c) => sum + c.score, 0);
    let best = 0;
    let bestValue = Number.NEGATIVE_INFINITY;
    scored.forEach((c, i) => {
      const value = (current.get(c.id) ?? 0) + c.score;
      current.set(c.id, value);
      if (value > bestValue) {
        bestValue = value;
        best = i;
      }
    });
    current.set(scored[best]!.id, bestValue - total);
    return best;
  };
}
