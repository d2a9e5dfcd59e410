import { ApplicationFailure } from '@temporalio/common';
import { headers as natsHeaders, JSONCodec, type NatsConnection } from 'nats';
import type { Logger } from '../lib/log';
import type { UpstreamPool } from '../lib/upstreams/pool';
import type { SwitchboardConfig } from '../schemas/config';
import { DrillReport, type DrillPlan, type DrillRoutePlan } from '../schemas/drill';
import { OutputValidation } from '../schemas/validation';
import { failureTypes } from '../contracts/failures';
import { BREAKER_CLUSTER_HEADER, drillSubject } from '../contracts/names';

export interface DrillActivityDeps {
  config: () => SwitchboardConfig;
  pool: () => UpstreamPool;
  nats: NatsConnection;
  log: Logger;
  /** Cluster named in the `Sb-Cluster` header of each report; default none (production's one cluster). */
  cluster?: string;
  /** Sees every published report (the worker's metrics). */
  onReport?: (report: DrillReport) => void;
}

const codec = JSONCodec<unknown>();

/**
 * The drill workflow's hands: `planDrill` fixes which entries to exercise
 * (every entry of every asked-for route — the failover switch is ignored, a
 * drill exists to exercise the entries traffic is not using); the attempts
 * themselves are the ordinary `attemptCall`; `publishDrillReport` tells the
 * world (NATS `sb.drill.<route>`, metrics, the log).
 */
export function createDrillActivities({ config, pool, nats, log, cluster, onReport }: DrillActivityDeps) {
  return {
    async planDrill({ routes }: { routes?: string[] }): Promise<DrillPlan> {
      const cfg = config();
      const known = Object.keys(cfg.routes);
      const unknown = (routes ?? []).filter((route) => !cfg.routes[route]);
      if (unknown.length) {
        throw ApplicationFailure.nonRetryable(
          `unknown route${unknown.length > 1 ? 's' : ''} ${unknown.map((r) => `"${r}"`).join(', ')} (known: ${known.join(', ')})`,
          failureTypes.invalidRequest,
        );
      }
      const planned = (routes ?? known).map((name): DrillRoutePlan => {
        const route = cfg.routes[name]!;
        // The route's own rules; an empty answer always fails; the second look is a model review, not a drill's business.
        const validation = { ...(route.validation ?? OutputValidation.parse({})), nonEmpty: true, secondLook: false };
        return {
          route: name,
          entries: route.entries.map((e) => ({
            provider: e.provider,
            model: e.model,
            ...(e.prompt ? { prompt: e.prompt } : {}),
            ...(e.contextTokens ? { contextTokens: e.contextTokens } : {}),
            upstreamCount: pool().size(e.provider, e.model),
          })),
          prompts: cfg.drills.routePrompts[name] ?? cfg.drills.prompts,
          validation,
          attemptTimeoutMs: route.attemptTimeoutMs ?? cfg.timeouts.attemptMs,
        };
      });
      return { routes: planned, heartbeatMs: cfg.timeouts.heartbeatMs };
    },

    async publishDrillReport({ report }: { report: DrillReport }): Promise<void> {
      const parsed = DrillReport.parse(report);
      const h = natsHeaders();
      if (cluster) h.set(BREAKER_CLUSTER_HEADER, cluster);
      nats.publish(drillSubject(parsed.route), codec.encode(parsed), { headers: h });
      await nats.flush();
      onReport?.(parsed);
      const failed = parsed.entries.filter((e) => e.result === 'fail').map((e) => `${e.index}:${e.provider}/${e.model}`);
      const line = { drillId: parsed.drillId, route: parsed.route, result: parsed.result, failed, cluster };
      if (failed.length) log.warn(line, 'fallback drill failed');
      else log.info(line, 'fallback drill passed');
    },
  };
}
