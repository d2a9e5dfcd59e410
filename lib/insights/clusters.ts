/**
 * Finds why users reject answers: groups the not-inserted interactions by the
 * features (input terms, attributes, feature × answer length) whose rejection
 * rate stands far above the baseline, merging features that describe the same
 * interactions. Deterministic, no external service, no model.
 */
import type { JudgedInteraction } from '../../schemas/interaction';
import { featuresOf, termsOf } from './features';

export interface InsightOptions {
  /** Judged interactions a feature needs before it can define a cluster. Default 5. */
  minSupport?: number;
  /** How many times the baseline rejection rate a cluster must reach. Default 1.5. */
  minLift?: number;
  /** Default 10. */
  maxClusters?: number;
  /** Examples per cluster. Default 3. */
  examples?: number;
}

export interface InsightCluster {
  /** The defining feature, e.g. `term:transparent` or `attr:feature=button&output=long`. */
  feature: string;
  label: string;
  /** Rejected interactions in the cluster. */
  size: number;
  /** Judged interactions with the feature. */
  support: number;
  insertRate: number;
  baselineInsertRate: number;
  /** Rejection rate over the baseline rejection rate. */
  lift: number;
  /** Terms over-represented among the cluster's inputs. */
  terms: string[];
  /** Attributes most of the cluster shares. */
  attributes: string[];
  examples: string[];
}

export interface InsightReport {
  judged: number;
  rejected: number;
  baselineInsertRate: number;
  clusters: InsightCluster[];
}

/** Lower bound of the Wilson score interval (95%): a rate that small samples cannot fake. */
function wilsonLower(successes: number, n: number): number {
  if (n === 0) return 0;
  const z = 1.96;
  const p = successes / n;
  return (p + (z * z) / (2 * n) - z * Math.sqrt((p * (1 - p) + (z * z) / (4 * n)) / n)) / (1 + (z * z) / n);
}

/** Terms that define (nearly) the same rejections are one cause: "transparent" + "background". */
function labelOf(feature: string, coDefining: string[]): string {
  if (feature.startsWith('term:')) return `inputs mentioning ${coDefining.map((t) => `"${t}"`).join(' + ')}`;
  return feature.slice(5).split('&').join(' with ');
}

export function findRejectionClusters(interactions: JudgedInteraction[], options: InsightOptions = {}): InsightReport {
  const minSupport = options.minSupport ?? 5;
  const minLift = options.minLift ?? 1.5;
  const judged = interactions.filter((i) => i.inserted !== undefined);
  const rejected = judged.filter((i) => i.inserted === false);
  const baselineReject = judged.length ? rejected.length / judged.length : 0;
  const features = judged.map((i) => new Set(featuresOf(i)));

  const stats = new Map<string, { n: number; rejected: number[] }>();
  judged.forEach((interaction, index) => {
    for (const feature of features[index]!) {
      const s = stats.get(feature) ?? { n: 0, rejected: [] };
      s.n++;
      if (interaction.inserted === false) s.rejected.push(index);
      stats.set(feature, s);
    }
  });

  const candidates = [...stats.entries()]
    .filter(([, s]) => s.n >= minSupport && s.n < judged.length)
    .map(([feature, s]) => ({ feature, n: s.n, members: s.rejected, rate: s.rejected.length / s.n, lower: wilsonLower(s.rejected.length, s.n) }))
    .filter((c) => c.rate >= baselineReject * minLift && c.lower > baselineReject)
    // Most rejections explained above the baseline first; ties by name for determinism.
    .sort((a, b) => b.members.length * (b.rate - baselineReject) - a.members.length * (a.rate - baselineReject) || a.feature.localeCompare(b.feature));

  const coDefiningTerms = (members: number[]) => {
    const set = new Set(members);
    return candidates
      .filter((c) => c.feature.startsWith('term:') && c.members.filter((m) => set.has(m)).length >= 0.9 * Math.max(set.size, c.members.length))
      .map((c) => c.feature.slice(5))
      .sort();
  };
  const picked: typeof candidates = [];
  for (const candidate of candidates) {
    const members = new Set(candidate.members);
    const overlaps = picked.some((p) => p.members.filter((m) => members.has(m)).length > 0.5 * Math.min(p.members.length, members.size));
    if (!overlaps) picked.push(candidate);
    if (picked.length >= (options.maxClusters ?? 10)) break;
  }

  const clusters = picked.map((c): InsightCluster => {
    const memberSet = new Set(c.members);
    const inside = new Map<string, number>();
    const outside = new Map<string, number>();
    judged.forEach((interaction, index) => {
      const target = memberSet.has(index) ? inside : outside;
      for (const term of termsOf(interaction.input)) target.set(term, (target.get(term) ?? 0) + 1);
    });
    const outsideCount = Math.max(1, judged.length - memberSet.size);
    const terms = [...inside.entries()]
      .map(([term, count]) => ({ term, score: count / memberSet.size - (outside.get(term) ?? 0) / outsideCount }))
      .filter((t) => t.score > 0.3)
      .sort((a, b) => b.score - a.score || a.term.localeCompare(b.term))
      .slice(0, 5)
      .map((t) => t.term);
    const attributeCounts = new Map<string, number>();
    for (const index of c.members)
      for (const f of features[index]!) if (f.startsWith('attr:')) attributeCounts.set(f.slice(5), (attributeCounts.get(f.slice(5)) ?? 0) + 1);
    const attributes = [...attributeCounts.entries()]
      .filter(([, n]) => n >= 0.8 * c.members.length && n > 0)
      .map(([a]) => a)
      .filter((a) => !a.includes('&'))
      .sort();
    return {
      feature: c.feature,
      label: labelOf(c.feature, coDefiningTerms(c.members)),
      size: c.members.length,
      support: c.n,
      insertRate: 1 - c.rate,
      baselineInsertRate: 1 - baselineReject,
      lift: baselineReject > 0 ? c.rate / baselineReject : Infinity,
      terms,
      attributes,
      examples: c.members.slice(0, options.examples ?? 3).map((index) => judged[index]!.input),
    };
  });
  return { judged: judged.length, rejected: rejected.length, baselineInsertRate: judged.length ? 1 - baselineReject : 0, clusters };
}
