/**
 * Fails when a production dependency is under a copyleft licence (GPL, AGPL,
 * LGPL, SSPL, EUPL, OSL, CC-BY-SA) with no permissive alternative in its
 * SPDX expression; weak copyleft (MPL, EPL, CDDL) is listed as a warning.
 * Run: npx tsx scripts/check-licences.ts
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const STRONG = /\b(AGPL|LGPL|GPL|SSPL|EUPL|OSL|CC-BY-SA)/i;
const WEAK = /\b(MPL|EPL|CDDL)/i;

function licenceOf(dir: string): string {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { license?: unknown; licenses?: Array<{ type?: string }> };
  if (typeof pkg.license === 'string') return pkg.license;
  if (pkg.license && typeof pkg.license === 'object' && 'type' in pkg.license) return String((pkg.license as { type: unknown }).type);
  if (Array.isArray(pkg.licenses)) return pkg.licenses.map((l) => l.type ?? '?').join(' OR ');
  return 'UNKNOWN';
}

/** `(MIT OR GPL-3.0)` passes: one permissive choice is enough. */
function isCopyleft(expression: string, pattern: RegExp): boolean {
  const alternatives = expression.replace(/[()]/g, '').split(/\s+OR\s+/i);
  return alternatives.every((alternative) => pattern.test(alternative));
}

const root = join(__dirname, '..');
const dirs = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
  .split('\n')
  .filter((line) => line && line !== root);
const seen = new Map<string, string>();
for (const dir of new Set(dirs)) {
  try {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; version: string };
    seen.set(`${pkg.name}@${pkg.version}`, licenceOf(dir));
  } catch {
    // optional dependency of another platform: not installed, not shipped
  }
}
const strong = [...seen].filter(([, licence]) => isCopyleft(licence, STRONG));
const weak = [...seen].filter(([, licence]) => !isCopyleft(licence, STRONG) && isCopyleft(licence, WEAK));
const unknown = [...seen].filter(([, licence]) => licence === 'UNKNOWN');
console.log(`licence check: ${seen.size} production packages`);
for (const [name, licence] of weak) console.log(`  warning: weak copyleft ${name}: ${licence}`);
for (const [name] of unknown) console.log(`  warning: no licence field in ${name}`);
for (const [name, licence] of strong) console.error(`  copyleft in production dependencies: ${name}: ${licence}`);
process.exit(strong.length ? 1 : 0);
