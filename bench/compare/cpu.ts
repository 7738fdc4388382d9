/**
 * CPU time used during a load window, from /proc: the server process's own, and PostgreSQL's (every process named
 * `postgres`: the backends serving the server's pool plus the background workers). On two shared cores the
 * database's CPU competes with the server's, so a server whose statements make PostgreSQL work harder pays for it in
 * throughput even when its own process is lean.
 */
import fs from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** utime + stime of a process, in milliseconds (0 once it is gone). */
function processCpuMs(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at ") "; utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

function postgresPids(): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres') pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

export type CpuSnapshot = { serverMs: number; postgres: Map<number, number> };

export function cpuSnapshot(serverPid: number): CpuSnapshot {
  return { serverMs: processCpuMs(serverPid), postgres: new Map(postgresPids().map((pid) => [pid, processCpuMs(pid)])) };
}

/** CPU milliseconds used between two snapshots; PostgreSQL processes started meanwhile count from zero. */
export function cpuSince(before: CpuSnapshot, serverPid: number): { serverMs: number; postgresMs: number } {
  const now = cpuSnapshot(serverPid);
  let postgresMs = 0;
  for (const [pid, ms] of now.postgres) postgresMs += ms - (before.postgres.get(pid) ?? 0);
  return { serverMs: now.serverMs - before.serverMs, postgresMs };
}
