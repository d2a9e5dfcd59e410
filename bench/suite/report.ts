/** results.md: the run's tables in Markdown, with the machine and the command, linking the charts beside it. */
import type { OverheadTarget } from './overhead';
import type { CallTally } from './stack-calls';
import type { PartOutcome, SuiteResult } from './suite-result';

const cell = (v: number | string | null | undefined, unit = '') =>
  v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v)) ? '–' : `${v}${unit}`;
const seconds = (ms: number | null) => (ms === null ? 'never' : `${(ms / 1000).toFixed(1)} s`);
const percent = (share: number) => `${(share * 100).toFixed(1)}%`;

function machineLine(r: SuiteResult): string {
  const m = r.machine;
  return `${m.date.slice(0, 16).replace('T', ' ')} UTC · ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB · Node ${m.node} · ${m.platform} · commit ${m.gitCommit}${m.gitDirty ? ' (uncommitted changes)' : ''} · load average ${m.loadAverageAtStart[0]} at the start, ${m.loadAverageAtEnd?.[0] ?? '?'} at the end`;
}

function partHeader(name: string, part: { ok: boolean; durationMs: number; budgetMs: number; error?: string }): string {
  const took = `${Math.round(part.durationMs / 1000)} s of a ${Math.round(part.budgetMs / 1000)} s budget`;
  return part.ok ? `_${took}._\n` : `**${name} failed** (${took}): ${part.error ?? ''}\n`;
}

export function overheadTables(r: SuiteResult): string {
  return targetTables('Overhead', r.overhead);
}

/** The `cluster` part: part 1's tables on the production topology. */
export function clusterTables(r: SuiteResult): string {
  if (!r.cluster) return '_Not run (only when asked: `--parts cluster`, `make bench PARTS=cluster`)._\n';
  return `${r.cluster.ok ? `${r.cluster.result.topology}.\n\n` : ''}${targetTables('Cluster', r.cluster)}`;
}

function targetTables(name: string, part: PartOutcome<{ targets: OverheadTarget[] }> | undefined): string {
  if (!part) return '';
  if (!part.ok) return partHeader(name, part);
  const targets = part.result.targets;
  const lines = [
    '| path | concurrency | calls/s | p50 ms | p95 ms | p99 ms | added p50 / p95 / p99 ms | errors | CPU ms per call |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |',
  ];
  for (const t of targets) {
    for (const l of t.levels) {
      const added = t.name === 'direct' ? '(baseline)' : `${cell(l.addedP50Ms)} / ${cell(l.addedP95Ms)} / ${cell(l.addedP99Ms)}`;
      lines.push(
        `| ${t.name} | ${l.concurrency} | ${cell(l.callsPerSecond)} | ${cell(l.p50Ms)} | ${cell(l.p95Ms)} | ${cell(l.p99Ms)} | ${added} | ${l.errors} | ${cell(l.cpuMsPerCall)} |`,
      );
    }
  }
  const floor = targets.find((t) => t.name === 'floor');
  const switchboard = targets.find((t) => t.name === 'switchboard');
  // Every Switchboard target (with the answer hand-off, and without it when the run has one) against the floor.
  const switchboards = targets.filter((t) => t.name.startsWith('switchboard'));
  if (floor && switchboard) {
    lines.push(
      '',
      '| ÷ floor (same server, same run) | concurrency | added p50 | added p99 | calls/s | CPU ms per call |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const t of switchboards) {
      for (const l of t.levels) {
        const f = floor.levels.find((x) => x.concurrency === l.concurrency);
        lines.push(
          `| ${t.name} | ${l.concurrency} | ${ratio(l.addedP50Ms, f?.addedP50Ms)} | ${ratio(l.addedP99Ms, f?.addedP99Ms)} | ${ratio(l.callsPerSecond, f?.callsPerSecond)} | ${ratio(l.cpuMsPerCall, f?.cpuMsPerCall)} |`,
        );
      }
    }
  }
  const streams = targets.filter((t) => t.streaming);
  if (streams.length) {
    const floorAdded = floor?.levels.find((l) => l.concurrency === 1)?.addedP50Ms;
    lines.push(
      '',
      "| streamed, concurrency 1 | calls | TTFT p50 ms | TTFT p95 ms | TTFT p99 ms | added TTFT p50 / p99 ms | added TTFT p50 − floor's added p50 ms |",
      '| --- | ---: | ---: | ---: | ---: | --- | ---: |',
    );
    for (const t of streams) {
      const s = t.streaming!;
      const added = t.name === 'direct' ? "(the vendor's own)" : `${cell(s.addedTtftP50Ms)} / ${cell(s.addedTtftP99Ms)}`;
      const overFloor =
        t.name === 'direct' || s.addedTtftP50Ms === null || floorAdded === null || floorAdded === undefined ? '–' : cell(round1(s.addedTtftP50Ms - floorAdded));
      lines.push(`| ${t.name} | ${s.calls} | ${cell(s.ttftP50Ms)} | ${cell(s.ttftP95Ms)} | ${cell(s.ttftP99Ms)} | ${added} | ${overFloor} |`);
    }
  }
  if (floor && switchboard) lines.push('', TARGETS);
  lines.push('', '| path | throughput at saturation | processes at the highest concurrency: CPU cores busy, RSS (peak) |', '| --- | ---: | --- |');
  for (const t of targets) {
    const last = t.levels.at(-1);
    const processes = (last?.processes ?? []).map((p) => `${p.name} ${cell(p.cores)} cores, ${cell(p.rssMb)} MB (${cell(p.peakRssMb)})`).join('; ');
    lines.push(`| ${t.name} | ${t.saturationCallsPerSecond} calls/s | ${processes} |`);
  }
  return `${partHeader(name, part)}\n${lines.join('\n')}\n`;
}

/** What the ratios are held against (issue 20): the cheapest durable shape on the same server is the yardstick. */
const TARGETS =
  "Targets against the floor: added latency at concurrency 1 p50 ≤ 1.3×, p99 ≤ 2×; calls/s at concurrency 10 and 50 ≥ 0.6×; CPU ms per call ≤ 2×; streamed TTFT added at concurrency 1 ≤ the floor's added p50 + 5 ms.";

const round1 = (n: number) => Math.round(n * 10) / 10;

/** `a ÷ b` with two decimals, or n/a. */
function ratio(a: number | null | undefined, b: number | null | undefined): string {
  return a === null || a === undefined || !b ? 'n/a' : `${(a / b).toFixed(2)}×`;
}

export function faultTable(r: SuiteResult): string {
  if (!r.faults) return '';
  if (!r.faults.ok) return partHeader('Faults', r.faults);
  const { timing, scenarios, sickUpstream } = r.faults.result;
  const lines = [
    `Sick upstream: \`${sickUpstream}\` (¼ of the OpenAI pool's weight). ${timing.ratePerSecond} calls/s offered, open loop: ${timing.beforeMs / 1000} s healthy, ${timing.faultMs / 1000} s fault, ${timing.afterMs / 1000} s healed.`,
    '',
    '| scenario | gateway | client-visible errors | silently truncated | requests hitting the fault | time to eject | time to recover | p95 ms (TTFT for streams) | vendor requests per call |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const s of scenarios) {
    for (const run of s.runs) {
      if (!run.measured) {
        lines.push(`| ${s.scenario.title} | ${run.peer} | n/a: ${run.reason.replace(/\|/g, '\\|')} | | | | | | |`);
        continue;
      }
      lines.push(
        `| ${s.scenario.title} | ${run.peer} | ${run.clientErrors} / ${run.calls} (${percent(run.clientErrorRate)}) | ${run.silentlyTruncated} | ${run.requestsHittingFault} | ${run.ejectionMeasurable ? seconds(run.timeToEjectMs) : 'n/a (comes and goes)'} | ${run.timeToRecoverMs === null ? `> ${timing.afterMs / 1000} s (not in the run)` : seconds(run.timeToRecoverMs)} | ${cell(run.p95Ms)} | ${run.vendorRequestsPerCall} |`,
      );
    }
  }
  return `${partHeader('Faults', r.faults)}\n${lines.join('\n')}\n`;
}

export function crashTable(r: SuiteResult): string {
  if (!r.crashes) return '';
  if (!r.crashes.ok) return partHeader('Crashes', r.crashes);
  const c = r.crashes.result;
  const lines = [
    `${c.sizes.calls} calls at ${c.sizes.ratePerSecond} calls/s and ${c.sizes.chains} site-planner chains (${c.sizes.chainPages + 2} calls each; ${c.chainCalls} chain calls) on three worker processes, the oldest SIGKILLed every ${c.sizes.killEveryMs / 1000} s and replaced; every vendor answer takes ${c.sizes.vendorLatencyMs} ms.`,
    '',
    '| kills | lost calls | lost chains | attempts lost with a worker | calls paid twice (explained by a lost attempt) | chain steps paid twice (explained) | p50 / p95 / p99 ms without kills | p50 / p95 / p99 ms with kills |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |',
    `| ${c.kills} | ${c.lostCalls} | ${c.lostChains} | ${c.lostAttempts} | ${c.callsPaidTwice} (${c.callsPaidTwiceForLostAttempt}) | ${c.chainStepsPaidTwice} (${c.chainStepsPaidTwiceForLostAttempt}) | ${cell(c.baseline.p50Ms)} / ${cell(c.baseline.p95Ms)} / ${cell(c.baseline.p99Ms)} | ${cell(c.underKills.p50Ms)} / ${cell(c.underKills.p95Ms)} / ${cell(c.underKills.p99Ms)} |`,
  ];
  if (c.firstErrors.length) lines.push('', `First errors: ${c.firstErrors.map((e) => `\`${e}\``).join('; ')}`);
  return `${partHeader('Crashes', r.crashes)}\n${lines.join('\n')}\n`;
}

export function scaleTable(r: SuiteResult): string {
  if (!r.scale) return '';
  if (!r.scale.ok) return partHeader('Scale', r.scale);
  const lines = ['| worker processes | calls/s | p50 ms | p99 ms | errors | CPU cores busy |', '| ---: | ---: | ---: | ---: | ---: | --- |'];
  for (const p of r.scale.result)
    lines.push(
      `| ${p.workers} | ${p.callsPerSecond} | ${cell(p.p50Ms)} | ${cell(p.p99Ms)} | ${p.errors} | ${p.processes.map((x) => `${x.name} ${cell(x.cores)}`).join(', ')} |`,
    );
  return `${partHeader('Scale', r.scale)}\n${lines.join('\n')}\n`;
}

const byStatus = (t: CallTally) =>
  Object.entries(t.byStatus)
    .filter(([status]) => status !== '200')
    .map(([status, n]) => `${n} × ${status}`)
    .join(', ') || 'none';

export function stackTable(r: SuiteResult): string {
  if (!r.stack) return '';
  if (!r.stack.ok) return partHeader('Stack', r.stack);
  const { sizes, outages, gatewayKilled: k, overload: o } = r.stack.result;
  const lines = [
    `${sizes.ratePerSecond} calls/s offered, open loop, through two gateways (no in-process worker) and one worker process, with the official \`openai\` client; a quarter of the calls streamed, a third with a \`user\`. ${sizes.beforeMs / 1000} s before each fault, ${sizes.afterMs / 1000} s after it.`,
    '',
    '| scenario | calls | answered | not answered | 500s | sent during the fault: answered | afterwards |',
    '| --- | ---: | ---: | --- | ---: | ---: | --- |',
  ];
  for (const x of outages) {
    const afterwards = x.records
      ? `${x.records.missingRecords} interaction records and ${x.records.missingCallEvents} calls' CallEvents lost of ${x.records.answered} answered calls; ${x.records.duplicateRecords + x.records.duplicateCallEvents} duplicates; all in JetStream ${x.records.completeAfterMs === null ? 'never' : seconds(x.records.completeAfterMs)} after the traffic`
      : `${x.unfinishedWorkflows ?? '–'} llmCall workflows unfinished; of ${x.refusals503} 503s, ${x.refusalsNamingDependency} name the dependency and ${x.refusalsOverloaded} say \`overloaded\`; ${x.calls.refusalsWithoutRetryAfter} refusals without retry-after`;
    const title = `${x.id === 'nats-down' ? 'nats-server' : 'Temporal dev server'} stopped ${seconds(x.outageMs)}`;
    lines.push(
      `| ${title} | ${x.calls.calls} | ${x.calls.answered} | ${byStatus(x.calls)} | ${x.calls.status500} | ${x.during.answered} / ${x.during.calls} | ${afterwards} |`,
    );
  }
  lines.push(
    `| one of two gateways SIGKILLed | ${k.calls.calls} | ${k.calls.answered} | ${byStatus(k.calls)} | ${k.calls.status500} | – | errors on the killed gateway ${k.errorsOnKilled} (${k.inFlightOnKilled} in flight at the kill), on the other ${k.errorsOnSurvivor}; a user whose ${k.heldRequests} in-flight slots were on the killed gateway admitted by the other after ${k.readmittedAfterMs === null ? 'never (60 s)' : seconds(k.readmittedAfterMs)} (${k.refusedBeforeReadmission} × 429 first) |`,
    '',
    `Overload, one gateway and one worker: a closed loop of ${sizes.overload.probeConcurrency} sustained ${o.sustainableCallsPerSecond} calls/s${o.probeRefused === undefined ? '' : ` (${o.probeRefused} refused)`}; then ${sizes.overload.unloadedMs / 1000} s at half of it (unloaded) and ${sizes.overload.overloadMs / 1000} s at ${o.offeredCallsPerSecond} calls/s (2×). RSS after: ${sizes.overload.cooldownMs / 1000} s after the last call.`,
    '',
    '| offered | admitted | admitted p50 / p99 ms (unloaded) | refused (p50 / p99 ms to the refusal) | other errors | RSS MB before → peak → after | V8 heap used MB before → peak → after (heap total after) | after a forced full GC: RSS (heap used) MB |',
    '| ---: | ---: | --- | --- | ---: | --- | --- | --- |',
    `| ${o.overload.calls} | ${o.overload.answered} | ${cell(o.overload.answeredP50Ms)} / ${cell(o.overload.answeredP99Ms)} (${cell(o.unloaded.answeredP50Ms)} / ${cell(o.unloaded.answeredP99Ms)}) | ${o.refused} (${cell(o.refusalP50Ms)} / ${cell(o.refusalP99Ms)}) | ${o.otherErrors} | ${o.memory.map((m) => `${m.name} ${cell(m.beforeMb)} → ${cell(m.peakMb)} → ${cell(m.afterMb)}`).join('; ')} | ${o.memory.map((m) => `${m.name} ${cell(m.heapUsedBeforeMb ?? null)} → ${cell(m.heapUsedPeakMb ?? null)} → ${cell(m.heapUsedAfterMb ?? null)} (${cell(m.heapTotalAfterMb ?? null)})`).join('; ')} | ${o.memory.map((m) => `${m.name} ${cell(m.rssAfterGcMb ?? null)} (${cell(m.heapUsedAfterGcMb ?? null)})`).join('; ')} |`,
  );
  return `${partHeader('Stack', r.stack)}\n${lines.join('\n')}\n`;
}

export function renderReport(r: SuiteResult, charts: string[]): string {
  const chart = (name: string) => (charts.includes(name) ? `\n![${name}](${name})\n` : '');
  return [
    `# Switchboard benchmark (${r.size})`,
    '',
    machineLine(r),
    '',
    `Command: \`${r.command}\`. Peer: ${r.peer.skipped ? `not run (${r.peer.skipped})` : `\`${r.peer.package}@${r.peer.version}\`, started with \`${r.peer.startCommand}\`; ${r.peer.routing}`}.`,
    '',
    r.failures.length ? `**Invariants failed:** ${r.failures.join('; ')}\n` : 'Every invariant held (no lost call, no part crashed).\n',
    '## 1. Overhead',
    '',
    overheadTables(r),
    chart('overhead-latency.svg'),
    chart('overhead-throughput.svg'),
    '## 2. Faults',
    '',
    faultTable(r),
    chart('faults-sick-traffic.svg'),
    chart('faults-errors.svg'),
    '## 3. Crashes',
    '',
    crashTable(r),
    chart('crashes-latency.svg'),
    '## 4. Scale',
    '',
    scaleTable(r),
    chart('scale.svg'),
    '## 5. Faults in our own stack',
    '',
    stackTable(r),
    '## 6. Cluster (production topology)',
    '',
    clusterTables(r),
  ].join('\n');
}

export const README_BLOCK_START = '<!-- bench:latest:start (written by `npx tsx bench/suite/main.ts --render bench/results/latest/results.json --readme`) -->';
export const README_BLOCK_END = '<!-- bench:latest:end -->';

/** The README's copy of the latest run: the same tables, charts linked from bench/results/latest/. */
export function renderReadmeBlock(r: SuiteResult, charts: string[]): string {
  const chart = (name: string, alt: string) => (charts.includes(name) ? `![${alt}](bench/results/latest/${name})` : '');
  const load = r.machine.loadAverageAtStart[0] ?? 0;
  const underLoad =
    load > r.machine.cores / 2
      ? ` **Measured under load**: other work shared the ${r.machine.cores} cores (load average ${r.machine.loadAverageAtStart[0]} at the start, ${r.machine.loadAverageAtEnd?.[0] ?? '?'} at the end), so the figures can be well below what the same machine gives when quiet.`
      : '';
  return [
    README_BLOCK_START,
    `Latest \`${r.size === 'default' ? 'make bench' : r.command}\`: ${machineLine(r)}. Every table: \`bench/results/latest/results.md\`; raw figures: \`results.json\` beside it.${underLoad}`,
    '',
    r.failures.length
      ? `**Invariants failed in this run:** ${r.failures.join('; ')}`
      : 'Every invariant held: no lost call or chain, no completed step paid twice, no error without a fault.',
    '',
    '**1. Overhead** (the same `openai` SDK client, closed loop) — `make bench` or `npx tsx bench/suite/main.ts --parts overhead`',
    '',
    overheadTables(r),
    `${chart('overhead-latency.svg', 'latency by concurrency')} ${chart('overhead-throughput.svg', 'throughput at saturation')}`,
    '',
    '**2. Faults** (openai/org-b sick mid-run; both gateways configured with the same upstream set) — `npx tsx bench/suite/main.ts --parts faults`',
    '',
    faultTable(r),
    `${chart('faults-sick-traffic.svg', 'requests that hit the fault')}`,
    '',
    '**3. Crashes** (three workers, one SIGKILLed every few seconds) — `npx tsx bench/suite/main.ts --parts crashes` (`--quick`: 300 calls and 6 chains)',
    '',
    crashTable(r),
    '',
    '**4. Scale** (worker processes on one task queue) — `npx tsx bench/suite/main.ts --parts scale`',
    '',
    scaleTable(r),
    `${chart('scale.svg', 'calls/s against workers')} ${chart('crashes-latency.svg', 'latency with and without kills')}`,
    ...(r.stack
      ? [
          '',
          '**5. Faults in our own stack** (NATS and Temporal stopped, a gateway SIGKILLed, 2× overload) — `npx tsx bench/suite/main.ts --parts stack`',
          '',
          stackTable(r),
        ]
      : []),
    README_BLOCK_END,
  ].join('\n');
}

/** README text with the block between the markers replaced; throws when the markers are missing. */
export function replaceReadmeBlock(readme: string, block: string): string {
  const start = readme.indexOf(README_BLOCK_START.slice(0, 24));
  const end = readme.indexOf(README_BLOCK_END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${README_BLOCK_START.slice(0, 24)} … ${README_BLOCK_END} block in its Performance section`);
  return `${readme.slice(0, start)}${block}${readme.slice(end + README_BLOCK_END.length)}`;
}
