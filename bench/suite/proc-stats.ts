/**
 * CPU and memory of a process from /proc (Linux): utime + stime from
 * /proc/<pid>/stat, VmRSS and VmHWM (peak RSS) from /proc/<pid>/status.
 * Elsewhere every figure is `null` rather than a guess.
 */
import { readFileSync } from 'node:fs';

/** Clock ticks per second: 100 on every Linux this runs on (`getconf CLK_TCK`). */
const TICKS_PER_SECOND = 100;

export function cpuMsOf(pid: number): number | null {
  try {
    // The command name (field 2) may contain spaces; the fields after its closing parenthesis are fixed.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    // utime and stime are fields 14 and 15 of stat: indexes 11 and 12 after the name.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

export function memoryMbOf(pid: number): { rssMb: number; peakRssMb: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    return { rssMb: Math.round(kb('VmRSS') / 1024), peakRssMb: Math.round(kb('VmHWM') / 1024) };
  } catch {
    return null;
  }
}

export interface ProcessUsage {
  name: string;
  /** CPU time used during the window, in ms. */
  cpuMs: number | null;
  /** Cores busy on average during the window. */
  cores: number | null;
  rssMb: number | null;
  peakRssMb: number | null;
}

/** Starts a CPU window over named processes; `end()` returns each one's usage since. */
export function startUsageWindow(processes: Array<{ name: string; pid: number }>): { end: () => ProcessUsage[] } {
  const startedAt = performance.now();
  const before = processes.map((p) => cpuMsOf(p.pid));
  return {
    end: () => {
      const elapsedMs = performance.now() - startedAt;
      return processes.map((p, i) => {
        const after = cpuMsOf(p.pid);
        const start = before[i];
        const cpuMs = after !== null && start !== null && start !== undefined ? after - start : null;
        const memory = memoryMbOf(p.pid);
        return {
          name: p.name,
          cpuMs,
          cores: cpuMs === null ? null : Math.round((cpuMs / elapsedMs) * 100) / 100,
          rssMb: memory?.rssMb ?? null,
          peakRssMb: memory?.peakRssMb ?? null,
        };
      });
    },
  };
}
