/** The run's charts, as SVG files next to results.md: name → SVG text. */
import { groupedBarChart, timelineSmallMultiples } from './svg';
import type { SuiteResult } from './suite-result';

export function drawCharts(result: SuiteResult): Record<string, string> {
  const charts: Record<string, string> = {};
  if (result.overhead?.ok) {
    const { targets, concurrency } = result.overhead.result;
    const series = targets.map((t) => t.name);
    charts['overhead-latency.svg'] = groupedBarChart({
      title: 'Latency per call by concurrency (bar p50, whisker p99)',
      yLabel: 'ms (log scale)',
      series,
      log: true,
      groups: concurrency.map((c) => ({
        label: `concurrency ${c}`,
        values: Object.fromEntries(targets.map((t) => [t.name, t.levels.find((l) => l.concurrency === c)?.p50Ms ?? null])),
        whiskers: Object.fromEntries(targets.map((t) => [t.name, t.levels.find((l) => l.concurrency === c)?.p99Ms ?? null])),
      })),
      note: 'openai SDK → fake vendor, directly or through a gateway; closed loop.',
    });
    charts['overhead-throughput.svg'] = groupedBarChart({
      title: 'Throughput at saturation',
      yLabel: 'calls/s (log scale)',
      series,
      log: true,
      groups: [{ label: 'best calls/s over the concurrency levels', values: Object.fromEntries(targets.map((t) => [t.name, t.saturationCallsPerSecond])) }],
    });
  }
  if (result.faults?.ok) {
    const { timing, scenarios, sickUpstream } = result.faults.result;
    const from = timing.beforeMs / 1000;
    // Cumulative, so a breaker shows as the line going flat and lines that coincide stay readable.
    const cumulative = (perSecond: number[]) => perSecond.reduce<number[]>((acc, v) => [...acc, (acc.at(-1) ?? 0) + v], []);
    charts['faults-sick-traffic.svg'] = timelineSmallMultiples({
      title: `Requests that hit the fault at ${sickUpstream}, cumulative`,
      yLabel: 'requests',
      panels: scenarios.map((s) => ({
        title: s.scenario.title.replace(/ \(.*\)$/, ''),
        series: Object.fromEntries(s.runs.flatMap((r) => (r.measured ? [[r.peer, cumulative(r.hitsPerSecond)]] : []))),
        shaded: { from, to: from + timing.faultMs / 1000 },
      })),
      note: `Shaded: the fault is on. ${timing.ratePerSecond} calls/s offered, open loop. A line going flat: the upstream was taken out of rotation.`,
    });
    const peers = [...new Set(scenarios.flatMap((s) => s.runs.map((r) => r.peer)))];
    charts['faults-errors.svg'] = groupedBarChart({
      title: 'Client-visible error rate per scenario',
      yLabel: '% of calls',
      series: peers,
      groups: scenarios.map((s) => ({
        label: s.scenario.id,
        values: Object.fromEntries(
          peers.map((p) => {
            const r = s.runs.find((x) => x.peer === p);
            return [p, r?.measured ? r.clientErrorRate * 100 : null];
          }),
        ),
      })),
    });
  }
  if (result.scale?.ok) {
    charts['scale.svg'] = groupedBarChart({
      title: 'Calls/s against worker processes',
      yLabel: 'calls/s',
      series: ['switchboard'],
      groups: result.scale.result.map((p) => ({ label: `${p.workers} worker${p.workers > 1 ? 's' : ''}`, values: { switchboard: p.callsPerSecond } })),
      note: `typed client, closed loop, concurrency ${result.scale.result[0]?.concurrency ?? '?'}; ${result.machine.cores} cores`,
    });
  }
  if (result.crashes?.ok) {
    const c = result.crashes.result;
    charts['crashes-latency.svg'] = groupedBarChart({
      title: `Call latency without and with a worker SIGKILLed every ${c.sizes.killEveryMs / 1000} s`,
      yLabel: 'ms',
      series: ['p50', 'p95', 'p99'],
      groups: [
        { label: 'no kills', values: { p50: c.baseline.p50Ms, p95: c.baseline.p95Ms, p99: c.baseline.p99Ms } },
        { label: `${c.kills} kill${c.kills === 1 ? '' : 's'}`, values: { p50: c.underKills.p50Ms, p95: c.underKills.p95Ms, p99: c.underKills.p99Ms } },
      ],
    });
  }
  return charts;
}
