/**
 * Which faults a request gets: pure selection over the active rules. Rules are
 * considered in the order they were set. The first firing fault that replaces
 * the answer (an error, a reset, a hang) decides the response; latency and a
 * slow first token add to whatever follows; one stream fault shapes a stream;
 * `invalid_json` spoils a structured answer.
 */
import type { Fault, FaultKind, FaultRule } from '../../schemas/fake-vendor';
import type { Random } from './seeded-random';
import { randomNormal } from './seeded-random';

export interface StoredRule {
  id: string;
  rule: FaultRule;
  createdAtMs: number;
  firedCount: number;
}

export interface FaultContext {
  organisation: string;
  model: string;
  stream: boolean;
  /** The request asked for schema-bound output (json_schema, json_object or a forced tool). */
  structured: boolean;
  /** The prompt text, lower-cased, for `promptContains`; computed only when a rule needs it. */
  promptTextLower: () => string;
  nowMs: number;
}

/** Faults that replace the answer. A down flap becomes a `status`. */
export type TerminalFault = Extract<
  Fault,
  { kind: 'status' | 'rate_limit' | 'account_locked' | 'context_length_exceeded' | 'content_policy_violation' | 'reset_before_headers' | 'hang' }
>;
export type StreamFault = Extract<Fault, { kind: 'stream_cut' | 'stream_stall' | 'malformed_chunk' | 'missing_done' | 'stream_error' }>;

export interface FaultPlan {
  terminal: TerminalFault | null;
  /** Added before the response headers. */
  latencyMs: number;
  /** Replaces the organisation's time to first token when set. */
  ttftMs: number | null;
  stream: StreamFault | null;
  invalidJson: boolean;
  /** Rules that fired, in order; their `times` are spent. */
  firedRuleIds: string[];
  firedKinds: FaultKind[];
  /** The fault that shaped the response most: the terminal one, else the first that fired. */
  decisive: FaultKind | null;
}

export const NO_FAULTS: FaultPlan = Object.freeze({
  terminal: null,
  latencyMs: 0,
  ttftMs: null,
  stream: null,
  invalidJson: false,
  firedRuleIds: [],
  firedKinds: [],
  decisive: null,
});

const STREAM_KINDS = new Set<FaultKind>(['stream_cut', 'stream_stall', 'malformed_chunk', 'missing_done', 'stream_error']);

/** A rule retires once its `times` are spent or its `durationMs` has passed. */
export function isRuleLive(stored: StoredRule, nowMs: number): boolean {
  const { times, durationMs } = stored.rule;
  if (times !== undefined && stored.firedCount >= times) return false;
  return durationMs === undefined || nowMs < stored.createdAtMs + durationMs;
}

function ruleMatches(stored: StoredRule, context: FaultContext): boolean {
  const { rule } = stored;
  if (rule.organisation !== context.organisation) return false;
  if (rule.model !== undefined && rule.model !== context.model) return false;
  if (rule.stream !== undefined && rule.stream !== context.stream) return false;
  if (STREAM_KINDS.has(rule.fault.kind) && !context.stream) return false;
  if (rule.fault.kind === 'invalid_json' && !context.structured) return false;
  if (rule.promptContains !== undefined && !context.promptTextLower().includes(rule.promptContains.toLowerCase())) return false;
  return true;
}

/** A flap is down during the first `downMs` of every `downMs + upMs` cycle since the rule was set. */
export function isFlapDown(fault: Extract<Fault, { kind: 'flap' }>, createdAtMs: number, nowMs: number): boolean {
  const cycleMs = fault.downMs + fault.upMs;
  if (cycleMs <= 0) return false;
  return (nowMs - createdAtMs) % cycleMs < fault.downMs;
}

function drawLatencyMs(fault: Extract<Fault, { kind: 'latency' }>, random: Random): number {
  if (fault.distribution === 'uniform') {
    const min = fault.minMs ?? 0;
    return min + random() * ((fault.maxMs ?? min) - min);
  }
  if (fault.distribution === 'normal') return Math.max(0, randomNormal(random, fault.meanMs ?? 0, fault.stdDevMs ?? 0));
  return fault.ms ?? 0;
}

export function planFaults(rules: readonly StoredRule[], context: FaultContext, random: Random): FaultPlan {
  if (rules.length === 0) return NO_FAULTS;
  const plan: FaultPlan = { ...NO_FAULTS, firedRuleIds: [], firedKinds: [] };
  for (const stored of rules) {
    if (!isRuleLive(stored, context.nowMs) || !ruleMatches(stored, context)) continue;
    const { fault } = stored.rule;
    if (!canStillApply(plan, fault)) continue;
    if (fault.kind === 'flap' && !isFlapDown(fault, stored.createdAtMs, context.nowMs)) continue;
    if (stored.rule.probability < 1 && random() >= stored.rule.probability) continue;
    const hadTerminal = plan.terminal !== null;
    apply(plan, fault, random);
    plan.firedRuleIds.push(stored.id);
    plan.firedKinds.push(fault.kind);
    if ((!hadTerminal && plan.terminal !== null) || plan.decisive === null) plan.decisive = fault.kind;
  }
  return plan.firedRuleIds.length === 0 ? NO_FAULTS : plan;
}

/** Once the answer is replaced, only latency still matters; only one stream fault shapes a stream. */
function canStillApply(plan: FaultPlan, fault: Fault): boolean {
  if (fault.kind === 'latency') return true;
  if (plan.terminal !== null) return false;
  if (STREAM_KINDS.has(fault.kind)) return plan.stream === null;
  return true;
}

function apply(plan: FaultPlan, fault: Fault, random: Random): void {
  switch (fault.kind) {
    case 'latency':
      plan.latencyMs += drawLatencyMs(fault, random);
      return;
    case 'slow_first_token':
      plan.ttftMs = Math.max(plan.ttftMs ?? 0, fault.ttftMs);
      return;
    case 'invalid_json':
      plan.invalidJson = true;
      return;
    case 'flap':
      plan.terminal = { kind: 'status', status: fault.status, body: 'vendor' };
      return;
    case 'stream_cut':
    case 'stream_stall':
    case 'malformed_chunk':
    case 'missing_done':
    case 'stream_error':
      plan.stream = fault;
      return;
    default:
      plan.terminal = fault;
  }
}
