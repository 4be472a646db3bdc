// Shared by the quick measurement scripts in this folder: a connection churn loop and the
// CPU time of a process read from /proc.
import { readFileSync } from 'node:fs';
import { parseProcStat } from '../system.js';

/** Runs `total` connections, `concurrency` at a time; `one()` resolves when its connection closed. */
export async function churn(total: number, concurrency: number, one: () => Promise<void>): Promise<void> {
  let started = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started < total) {
        started++;
        await one();
      }
    }),
  );
}

/** utime + stime of process `pid` (every thread), in seconds. */
export function processCpuSeconds(pid: number): number {
  return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).cpuSeconds;
}
