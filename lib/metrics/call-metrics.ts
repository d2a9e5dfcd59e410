/**
 * Prometheus metrics of a worker, fed by the CallEvents its attempts publish
 * (so the numbers match the event stream exactly) and by cache look-ups. A
 * registry per worker, so tests can run several in one process.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CallEvent } from '../../schemas/call-event';
import { drillEntryLabel, type DrillReport } from '../../schemas/drill';

/** One call at its end: what `sb_calls_total` counts. */
export interface FinishedCall {
  route: string;
  provider?: string;
  upstream?: string;
  outcome: 'success' | 'recovered' | 'cache_hit' | 'failed';
}

const LATENCY_BUCKETS_S = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120];

export function createCallMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'sb_worker_' });
  const registers = [registry];
  const m = {
    attempts: new Counter({
      name: 'sb_attempts_total',
      help: 'Upstream attempts by route, provider, upstream, model and outcome',
      labelNames: ['route', 'provider', 'upstream', 'model', 'outcome'] as const,
      registers,
    }),
    latency: new Histogram({
      name: 'sb_attempt_duration_seconds',
      help: 'Upstream attempt latency',
      labelNames: ['provider', 'upstream', 'outcome'] as const,
      buckets: LATENCY_BUCKETS_S,
      registers,
    }),
    ttft: new Histogram({
      name: 'sb_attempt_time_to_first_token_seconds',
      help: 'Streamed attempts: time to the first token',
      labelNames: ['provider', 'upstream'] as const,
      buckets: LATENCY_BUCKETS_S,
      registers,
    }),
    tokens: new Counter({
      name: 'sb_tokens_total',
      help: 'Tokens by provider, model and direction (input|output)',
      labelNames: ['provider', 'model', 'direction'] as const,
      registers,
    }),
    cost: new Counter({
      name: 'sb_cost_usd_total',
      help: 'Cost in USD by route, provider and model',
      labelNames: ['route', 'provider', 'model'] as const,
      registers,
    }),
    headroom: new Gauge({
      name: 'sb_ratelimit_headroom_ratio',
      help: "Remaining / limit from the vendor's last rate-limit headers (1 = idle, 0 = exhausted)",
      labelNames: ['upstream', 'kind'] as const,
      registers,
    }),
    rateLimitRemaining: new Gauge({
      name: 'sb_ratelimit_remaining',
      help: "Remaining requests or tokens in the vendor's current window, from its last rate-limit headers",
      labelNames: ['provider', 'upstream', 'kind'] as const,
      registers,
    }),
    rateLimitLimit: new Gauge({
      name: 'sb_ratelimit_limit',
      help: "The vendor's requests or tokens per window for the upstream, from its last rate-limit headers",
      labelNames: ['provider', 'upstream', 'kind'] as const,
      registers,
    }),
    validationFailures: new Counter({
      name: 'sb_validation_failures_total',
      help: 'Answers rejected by validation, by upstream, model, prompt variant and rule',
      labelNames: ['upstream', 'model', 'prompt_variant', 'rule'] as const,
      registers,
    }),
    calls: new Counter({
      name: 'sb_calls_total',
      help: 'Finished calls by route, the provider and upstream that answered (the last tried for a failure) and outcome (success|recovered|cache_hit|failed)',
      labelNames: ['route', 'provider', 'upstream', 'outcome'] as const,
      registers,
    }),
    cache: new Counter({
      name: 'sb_cache_lookups_total',
      help: 'Response-cache look-ups by result (hit|semantic_hit|miss)',
      labelNames: ['route', 'result'] as const,
      registers,
    }),
    drillResults: new Counter({
      name: 'sb_drill_result_total',
      help: 'Fallback-drill verdicts per route entry (entry = <index>:<provider>/<model>, result = pass|fail)',
      labelNames: ['route', 'entry', 'result'] as const,
      registers,
    }),
    drillLatency: new Histogram({
      name: 'sb_drill_latency_seconds',
      help: 'Latency of each fallback-drill sample prompt, per route entry',
      labelNames: ['route', 'entry', 'result'] as const,
      buckets: LATENCY_BUCKETS_S,
      registers,
    }),
    drillLastRun: new Gauge({
      name: 'sb_drill_last_run_timestamp_seconds',
      help: 'When the last fallback drill of the route finished (unix seconds), on the worker that published it',
      labelNames: ['route'] as const,
      registers,
    }),
  };

  return {
    registry,
    /** Counts one CallEvent. */
    observe(event: CallEvent): void {
      m.attempts.inc({ route: event.route, provider: event.provider, upstream: event.upstream, model: event.model, outcome: event.outcome });
      m.latency.observe({ provider: event.provider, upstream: event.upstream, outcome: event.outcome }, event.latencyMs / 1000);
      if (event.ttftMs !== undefined) m.ttft.observe({ provider: event.provider, upstream: event.upstream }, event.ttftMs / 1000);
      if (event.inputTokens) m.tokens.inc({ provider: event.provider, model: event.model, direction: 'input' }, event.inputTokens);
      if (event.outputTokens) m.tokens.inc({ provider: event.provider, model: event.model, direction: 'output' }, event.outputTokens);
      if (event.costUsd) m.cost.inc({ route: event.route, provider: event.provider, model: event.model }, event.costUsd);
      const rl = event.rateLimit;
      // Remaining and limit too, so a pool's usage (sum over its upstreams) can be alerted on, not only one upstream's.
      for (const [kind, remaining, limit] of [
        ['requests', rl?.remainingRequests, rl?.limitRequests],
        ['tokens', rl?.remainingTokens, rl?.limitTokens],
      ] as const) {
        if (!limit || remaining === undefined) continue;
        m.headroom.set({ upstream: event.upstream, kind }, remaining / limit);
        m.rateLimitRemaining.set({ provider: event.provider, upstream: event.upstream, kind }, remaining);
        m.rateLimitLimit.set({ provider: event.provider, upstream: event.upstream, kind }, limit);
      }
      if (event.outcome === 'invalid_output') {
        m.validationFailures.inc({ upstream: event.upstream, model: event.model, prompt_variant: event.promptVariant, rule: event.errorType ?? 'unknown' });
      }
    },
    /** Counts one route's drill report: a verdict per entry, a latency per sample, the run's time. */
    observeDrill(report: DrillReport): void {
      for (const entry of report.entries) {
        const labels = { route: report.route, entry: drillEntryLabel(entry) };
        m.drillResults.inc({ ...labels, result: entry.result });
        for (const sample of entry.samples) m.drillLatency.observe({ ...labels, result: sample.result }, sample.latencyMs / 1000);
      }
      m.drillLastRun.set({ route: report.route }, report.finishedAt / 1000);
    },
    /** Counts one finished call (attempts are counted per CallEvent by `observe`). */
    observeCall(call: FinishedCall): void {
      m.calls.inc({ route: call.route, provider: call.provider ?? 'none', upstream: call.upstream ?? 'none', outcome: call.outcome });
    },
    observeCacheLookup(route: string, result: 'hit' | 'semantic_hit' | 'miss'): void {
      m.cache.inc({ route, result });
    },
  };
}
export type CallMetrics = ReturnType<typeof createCallMetrics>;
