/** Prometheus metrics of one gateway process (`GET /metrics`), on a registry of its own so tests can run several gateways. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createGatewayMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'sb_gateway_' });
  return {
    registry,
    requests: new Counter({
      name: 'sb_gateway_requests_total',
      help: 'HTTP requests by endpoint, route and status',
      labelNames: ['endpoint', 'route', 'status'] as const,
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'sb_gateway_request_duration_seconds',
      help: 'Time from request to the last byte of the answer',
      labelNames: ['endpoint', 'stream'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    ttft: new Histogram({
      name: 'sb_gateway_time_to_first_token_seconds',
      help: 'Streams: request to the first content chunk sent',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    admissionQueued: new Counter({
      name: 'sb_gateway_admission_queued_total',
      help: 'Requests of queueing routes that waited in line for admission',
      labelNames: ['route'] as const,
      registers: [registry],
    }),
    admissions: new Counter({
      name: 'sb_gateway_admissions_total',
      help: "Requests admitted, by where their limits were kept: shared (NATS KV, every pod) or local (NATS did not answer; this pod's own limiter)",
      labelNames: ['store'] as const,
      registers: [registry],
    }),
    admissionRejected: new Counter({
      name: 'sb_gateway_admission_rejected_total',
      help: 'Requests refused by admission',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    streamOutcomes: new Counter({
      name: 'sb_gateway_stream_outcomes_total',
      help: 'How streams ended: done, error_before_first_token, broken_after_first_token, client_gone',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    workflowStarts: new Counter({
      name: 'sb_gateway_workflow_starts_total',
      help: 'llmCall starts; eager="true" when the server handed the first task straight to the in-process worker',
      labelNames: ['eager'] as const,
      registers: [registry],
    }),
    callResults: new Counter({
      name: 'sb_gateway_call_results_total',
      help: 'Where calls\' requests took their result from: via="handoff" the in-process worker, as the first task\'s local activity ended; via="workflow" the workflow\'s result',
      labelNames: ['via'] as const,
      registers: [registry],
    }),
    feedback: new Counter({ name: 'sb_gateway_feedback_total', help: 'Feedback accepted', labelNames: ['inserted'] as const, registers: [registry] }),
  };
}
export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;

/** Load shedding's view of this pod, read at each scrape: its calls in flight and the adaptive limit on them. */
export function registerSheddingMetrics(registry: Registry, snapshot: () => { inFlight: number; limit: number }): void {
  new Gauge({
    name: 'sb_gateway_calls_in_flight',
    help: 'Admitted calls in flight in this gateway',
    registers: [registry],
    collect() {
      this.set(snapshot().inFlight);
    },
  });
  new Gauge({
    name: 'sb_gateway_shedding_limit',
    help: 'The adaptive limit on calls in flight: beyond it a call is refused with 503 overloaded',
    registers: [registry],
    collect() {
      this.set(snapshot().limit);
    },
  });
}
