/**
 * The Grafana dashboard and the Prometheus alert rules may only use metrics
 * (and labels) that the worker and gateway registries actually expose, so a
 * renamed metric breaks this test instead of silently emptying a panel or
 * muting an alert.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Registry } from 'prom-client';
import { parse as parseYaml } from 'yaml';
import { createLiveConfig } from '../../lib/config/live-config';
import { parseConfig } from '../../lib/config/load';
import { breakerTargetsOf } from '../../lib/health-registry/breaker-targets';
import { registerBreakerMetrics } from '../../lib/metrics/breaker-metrics';
import { createCallMetrics } from '../../lib/metrics/call-metrics';
import { registerConfigMetrics } from '../../lib/metrics/config-metrics';
import { createGatewayMetrics } from '../../services/gateway/metrics';

const root = resolve(__dirname, '../..');
/** Labels Prometheus adds at scrape time, and the histogram bucket label. */
const SCRAPE_LABELS = ['le', 'instance', 'job', 'pod', 'namespace'];
/** Series a histogram exposes besides its name. */
const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'];

/** Every series name our processes can expose, with its label names. */
function exposedMetrics(): Map<string, readonly string[]> {
  const config = parseConfig({
    providers: { p: { protocol: 'openai', baseUrl: 'http://127.0.0.1:1/v1', upstreams: [{ name: 'u', apiKeyEnv: 'K' }] } },
    routes: { r: { entries: [{ provider: 'p', model: 'm' }] } },
  });
  const live = createLiveConfig({ config, secrets: new Map([['p/u', 'k']]) });
  const extra = new Registry();
  registerBreakerMetrics(extra, { breakers: () => new Map(), targets: () => breakerTargetsOf(config) });
  registerConfigMetrics(extra, live);
  const registries = [createCallMetrics().registry, createGatewayMetrics().registry, extra];
  const metrics = new Map<string, readonly string[]>();
  for (const registry of registries) {
    for (const metric of registry.getMetricsAsArray()) {
      // prom-client keeps a metric's declared label names on the instance (not in its typings).
      const labels = (metric as unknown as { labelNames?: readonly string[] }).labelNames ?? [];
      const { name, type } = metric as unknown as { name: string; type: string };
      metrics.set(name, labels);
      if (type === 'histogram') for (const suffix of HISTOGRAM_SUFFIXES) metrics.set(`${name}${suffix}`, labels);
    }
  }
  return metrics;
}

interface Query {
  where: string;
  expr: string;
  legend?: string;
}

function dashboardQueries(): Query[] {
  const dashboard = JSON.parse(readFileSync(resolve(root, 'deploy/grafana/switchboard-dashboard.json'), 'utf8')) as {
    panels: Array<{ title: string; targets?: Array<{ expr: string; legendFormat?: string }> }>;
    templating: { list: Array<{ name: string; definition?: string }> };
  };
  const panels = dashboard.panels.flatMap((panel) =>
    (panel.targets ?? []).map((t) => ({ where: `panel "${panel.title}"`, expr: t.expr, ...(t.legendFormat ? { legend: t.legendFormat } : {}) })),
  );
  const variables = dashboard.templating.list.flatMap((v) => (v.definition ? [{ where: `variable $${v.name}`, expr: v.definition }] : []));
  return [...panels, ...variables];
}

function alertQueries(): Query[] {
  const file = parseYaml(readFileSync(resolve(root, 'deploy/prometheus/switchboard-alerts.yml'), 'utf8')) as {
    groups: Array<{ rules: Array<{ alert: string; expr: string }> }>;
  };
  return file.groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })));
}

/** Labels a query names: in `by (...)`/`without (...)`, in `{label=...}` matchers, and in `{{label}}` legends. */
function labelsUsed(query: Query): string[] {
  const grouped = [...query.expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap((m) =>
    m[1]!
      .split(',')
      .map((l) => l.trim())
      .filter(Boolean),
  );
  const matched = [...query.expr.matchAll(/\{([^}]*)\}/g)].flatMap((m) => [...m[1]!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map((x) => x[1]!));
  const legend = [...(query.legend ?? '').matchAll(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g)].map((m) => m[1]!);
  return [...grouped, ...matched, ...legend];
}

describe('dashboard and alert rules use only exposed metrics', () => {
  const exposed = exposedMetrics();
  const queries = [...dashboardQueries(), ...alertQueries()];

  it('finds queries in both files', () => {
    expect(queries.filter((q) => q.where.startsWith('panel')).length).toBeGreaterThan(10);
    expect(queries.filter((q) => q.where.startsWith('alert')).map((q) => q.where)).toEqual(
      expect.arrayContaining(['alert SwitchboardPoolRateLimitNear', 'alert SwitchboardBreakerOpen', 'alert SwitchboardUpstreamErrorRate']),
    );
  });

  it.each(queries.map((q) => [q.where, q] as const))('%s names real metrics and labels', (_where, query) => {
    const names = [...query.expr.matchAll(/\bsb_[a-z0-9_]+\b/g)].map((m) => m[0]);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect({ name, exposed: exposed.has(name) }).toEqual({ name, exposed: true });
    const allowed = new Set([...SCRAPE_LABELS, ...names.flatMap((n) => exposed.get(n) ?? [])]);
    for (const label of labelsUsed(query)) expect({ label, in: query.expr, allowed: allowed.has(label) }).toEqual({ label, in: query.expr, allowed: true });
  });

  it('alerts when a pool passes 80% of its rate limit', () => {
    const pool = alertQueries().find((q) => q.where === 'alert SwitchboardPoolRateLimitNear');
    expect(pool?.expr).toMatch(/sb_ratelimit_remaining[\s\S]*sb_ratelimit_limit[\s\S]*> 0\.8/);
  });
});
