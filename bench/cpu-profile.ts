/**
 * Where a process spent its CPU: V8 `.cpuprofile`s (node --cpu-prof, e.g.
 * from `bench/suite/main.ts --parts overhead --cpu-prof DIR`: one file per
 * thread in DIR/<process>/) summed by self time — per area (an npm package,
 * a folder of this repository, node's own internals, garbage collection,
 * idle) and per function, over every file given.
 *
 *   npx tsx bench/cpu-profile.ts DIR/gateway/*.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { z } from 'zod';

const CpuProfile = z.object({
  nodes: z.array(z.object({ id: z.number(), callFrame: z.object({ functionName: z.string(), url: z.string(), lineNumber: z.number() }) })),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
  startTime: z.number(),
  endTime: z.number(),
});

/** The area a frame belongs to: `pkg:<npm package>`, `repo:<top folder>`, `node`, or V8's own pseudo-frames. */
export function areaOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `pkg:${pkg[1]}`;
  if (url.startsWith('node:')) return 'node';
  const repo = /\/(activities|lib|services|workflows|schemas|bench)\/([^/]+)/.exec(url);
  if (repo) return `repo:${repo[1]}/${repo[2]!.replace(/\.ts$/, '')}`;
  return url.includes('workflow-bundle') || url.includes('webpack') ? 'workflow bundle' : url.replace(/^.*\//, '');
}

function main(): void {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
  if (positionals.length === 0) throw new Error('usage: npx tsx bench/cpu-profile.ts <file.cpuprofile>... [--top N]');
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  let busyUs = 0;
  let wallUs = 0;
  for (const path of positionals) {
    const profile = CpuProfile.parse(JSON.parse(readFileSync(path, 'utf8')));
    wallUs = Math.max(wallUs, profile.endTime - profile.startTime);
    const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
    const selfUs = new Map<number, number>();
    profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
    for (const [id, us] of selfUs) {
      const frame = byId.get(id)!;
      const area = areaOf(frame.url, frame.functionName);
      areas.set(area, (areas.get(area) ?? 0) + us);
      if (area !== '(idle)') busyUs += us;
      const name = `${frame.functionName || '(anonymous)'} ${area}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
      functions.set(name, (functions.get(name) ?? 0) + us);
    }
  }
  const top = Number(values.top);
  const share = (us: number) => `${((us / busyUs) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms`;
  process.stdout.write(
    `${positionals.length} profile(s): ${(busyUs / 1000).toFixed(0)} ms busy over ${(wallUs / 1000).toFixed(0)} ms profiled (idle excluded from the shares)\n\nby area\n`,
  );
  for (const [area, us] of [...areas]
    .filter(([a]) => a !== '(idle)')
    .sort((a, b) => b[1] - a[1])
    .slice(0, top))
    process.stdout.write(`  ${share(us)}  ${area}\n`);
  process.stdout.write('\nby function (self time)\n');
  for (const [name, us] of [...functions]
    .filter(([n]) => !n.includes('(idle)'))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top))
    process.stdout.write(`  ${share(us)}  ${name}\n`);
}

if (require.main === module) main();
