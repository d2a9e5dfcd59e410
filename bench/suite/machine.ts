/**
 * The machine a run was measured on, written next to every figure: a number
 * without its CPU, core count, memory, load and commit cannot be compared.
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { resolve } from 'node:path';

export interface MachineDescription {
  date: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
  gitCommit: string;
  /** Uncommitted changes in the working tree when the run started. */
  gitDirty: boolean;
  /** 1, 5 and 15 minute load averages at the start and at the end of the run. */
  loadAverageAtStart: number[];
  loadAverageAtEnd?: number[];
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: resolve(__dirname, '../..'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

const round2 = (n: number) => Math.round(n * 100) / 100;

export function describeMachine(): MachineDescription {
  return {
    date: new Date().toISOString(),
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryGiB: round2(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    gitCommit: git(['rev-parse', '--short=12', 'HEAD']) || 'unknown',
    gitDirty: git(['status', '--porcelain', '--untracked-files=no']).length > 0,
    loadAverageAtStart: loadavg().map(round2),
  };
}

export function finishMachine(machine: MachineDescription): MachineDescription {
  return { ...machine, loadAverageAtEnd: loadavg().map(round2) };
}
