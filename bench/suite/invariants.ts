/**
 * What must hold for a run to count, whatever the speed: every part that was
 * asked for ran to the end within its budget, nothing was lost, no call the
 * chain had already completed was paid again, and with no fault injected
 * nothing failed.
 */
import type { CallTally } from './stack-calls';
import type { StackResult } from './stack-faults';
import type { PartName, SuiteResult } from './suite-result';

export function invariantFailures(r: SuiteResult, parts: Set<PartName>): string[] {
  const failures: string[] = [];
  for (const name of parts) {
    const part = r[name];
    if (!part) failures.push(`${name} did not run`);
    else if (!part.ok) failures.push(`${name}: ${part.error}`);
  }
  for (const [name, part] of [
    ['overhead', r.overhead],
    ['cluster', r.cluster],
  ] as const) {
    if (!part?.ok) continue;
    for (const t of part.result.targets) {
      const errors = t.levels.reduce((sum, l) => sum + l.errors, 0);
      if (errors > 0)
        failures.push(
          `${name}: ${t.name} failed ${errors} calls with no fault injected (${t.levels
            .flatMap((l) => l.firstErrors)
            .slice(0, 2)
            .join('; ')})`,
        );
      if (t.levels.some((l) => l.calls === 0)) failures.push(`${name}: ${t.name} completed no call at some concurrency`);
    }
  }
  if (r.faults?.ok) {
    for (const s of r.faults.result.scenarios) {
      for (const run of s.runs) {
        // The peer may not support a kind of call (reported n/a); Switchboard must.
        if (!run.measured && run.peer === 'switchboard') failures.push(`faults: ${s.scenario.id}: switchboard ${run.reason}`);
        if (run.measured && run.calls === 0) failures.push(`faults: ${s.scenario.id} on ${run.peer} sent no call`);
      }
    }
  }
  if (r.scale?.ok) {
    for (const p of r.scale.result) if (p.errors > 0) failures.push(`scale: ${p.errors} calls failed with ${p.workers} worker(s)`);
  }
  if (r.crashes?.ok) {
    const c = r.crashes.result;
    if (c.kills === 0) failures.push('crashes: no worker was killed, so nothing was tested');
    if (c.lostCalls > 0) failures.push(`crashes: ${c.lostCalls} calls lost (${c.firstErrors.join('; ')})`);
    if (c.lostChains > 0) failures.push(`crashes: ${c.lostChains} chains lost`);
    if (c.chainStepsPaidTwice > c.chainStepsPaidTwiceForLostAttempt)
      failures.push(`crashes: ${c.chainStepsPaidTwice - c.chainStepsPaidTwiceForLostAttempt} completed chain steps paid twice (no lost attempt explains them)`);
    if (c.callsPaidTwice > c.callsPaidTwiceForLostAttempt)
      failures.push(`crashes: ${c.callsPaidTwice - c.callsPaidTwiceForLostAttempt} calls paid twice with no lost attempt`);
    if (c.unmatchedInVendorLog > 0)
      failures.push(`crashes: ${c.unmatchedInVendorLog} successful calls or chains missing from the vendor log (accounting broken)`);
  }
  if (r.stack?.ok) failures.push(...stackFailures(r.stack.result));
  return failures;
}

/**
 * The stack part's hard guarantees (docs/gateway.md, docs/deploy.md): an
 * outage of NATS or Temporal, a killed gateway or 2× overload never answers
 * 500 and never leaves a caller without an answer; every refusal says when to
 * come back; within the outbox's bound no answered call's record is lost.
 * Speed, error counts and memory are figures, not invariants.
 */
function stackFailures(s: StackResult): string[] {
  const failures: string[] = [];
  const scenarios: Array<[string, CallTally]> = [
    ...s.outages.map((o): [string, CallTally] => [o.id, o.calls]),
    ['gateway-killed', s.gatewayKilled.calls],
    ['overload', s.overload.overload],
  ];
  for (const [id, t] of scenarios) {
    if (t.calls === 0) failures.push(`stack: ${id} sent no call`);
    if (t.status500 > 0) failures.push(`stack: ${id}: ${t.status500} × 500 (${t.firstErrors.join('; ')})`);
    if (t.refusalsWithoutRetryAfter > 0) failures.push(`stack: ${id}: ${t.refusalsWithoutRetryAfter} refusals without retry-after`);
  }
  for (const o of s.outages) {
    if (o.calls.noAnswer > 0) failures.push(`stack: ${o.id}: ${o.calls.noAnswer} calls got no answer at all`);
    const unexplained = o.refusals503 - o.refusalsNamingDependency - o.refusalsOverloaded;
    if (unexplained > 0) failures.push(`stack: ${o.id}: ${unexplained} 503s neither named the dependency nor said overloaded`);
    if (o.records && (o.records.missingRecords > 0 || o.records.missingCallEvents > 0))
      failures.push(
        `stack: ${o.id}: of ${o.records.answered} answered calls, ${o.records.missingRecords} interaction records and ${o.records.missingCallEvents} calls' CallEvents lost`,
      );
    if (o.unfinishedWorkflows) failures.push(`stack: ${o.id}: ${o.unfinishedWorkflows} llmCall workflows never finished`);
  }
  if (s.gatewayKilled.readmittedAfterMs === null) failures.push('stack: gateway-killed: the held user was not admitted again within 60 s');
  return failures;
}
