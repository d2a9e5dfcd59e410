import { ApplicationFailure } from '@temporalio/common';
import type { FailoverWatch } from '../lib/control/failover';
import type { UpstreamPool } from '../lib/upstreams/pool';
import type { CallPlan, LlmCallInput } from '../schemas/call';
import type { SwitchboardConfig } from '../schemas/config';
import { failureTypes } from '../contracts/failures';
import { routeStreamConfig } from '../schemas/gateway';

/** A feature's own checks win over its route's. */
function validationFor(cfg: SwitchboardConfig, route: string, feature: string | undefined) {
  return (feature ? cfg.features[feature]?.validation : undefined) ?? cfg.routes[route]?.validation;
}

export interface PlanActivityDeps {
  config: () => SwitchboardConfig;
  pool: () => UpstreamPool;
  failover: Pick<FailoverWatch, 'avoidedProvider'>;
}

/**
 * planCall runs as a local activity: it reads the worker's config and its
 * local copy of the failover switch (no network), and fixes the route for
 * this call in the workflow's history.
 */
export function createPlanActivities({ config, pool, failover }: PlanActivityDeps) {
  return {
    async planCall(input: LlmCallInput): Promise<CallPlan> {
      const cfg = config();
      const route = cfg.routes[input.request.route];
      if (!route) {
        throw ApplicationFailure.nonRetryable(
          `unknown route "${input.request.route}" (known: ${Object.keys(cfg.routes).join(', ')})`,
          failureTypes.invalidRequest,
        );
      }
      const avoided = failover.avoidedProvider();
      const entries = route.entries.map((e) => ({
        provider: e.provider,
        model: e.model,
        ...(e.prompt ? { prompt: e.prompt } : {}),
        ...(e.contextTokens ? { contextTokens: e.contextTokens } : {}),
        upstreamCount: pool().size(e.provider, e.model),
      }));
      // The switch removes the avoided vendor; a route that has nothing else keeps it rather than failing every call.
      const kept = avoided ? entries.filter((e) => e.provider !== avoided) : entries;
      const honoured = kept.length > 0 && kept.length < entries.length;
      return {
        entries: kept.length > 0 ? kept : entries,
        retry: route.shortRetryAfterMs === undefined ? cfg.retry : { ...cfg.retry, shortRetryAfterMs: route.shortRetryAfterMs },
        attemptTimeoutMs: route.attemptTimeoutMs ?? cfg.timeouts.attemptMs,
        heartbeatMs: cfg.timeouts.heartbeatMs,
        callTimeoutMs: cfg.timeouts.callMs,
        rateLimitWaitMs: cfg.health.defaultRetryAfterMs,
        ...(validationFor(cfg, input.request.route, input.request.feature)
          ? { validation: validationFor(cfg, input.request.route, input.request.feature) }
          : {}),
        cache: route.cache ?? cfg.cache,
        pii: cfg.pii,
        ...(honoured && avoided ? { avoidedProvider: avoided } : {}),
        ...(input.request.stream ? { midStream: routeStreamConfig(cfg.gateway, input.request.route).midStream } : {}),
      };
    },
  };
}
