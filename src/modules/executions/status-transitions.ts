import type { ExecutionStatus } from '../../generated/prisma/client.js';
import { conflict } from '../../errors.js';

/**
 * The executor's state machine. A run is QUEUED when created (node executions start INCOMPLETE), RUNNING while
 * it executes, may pause for human REVIEW and resume, and ends COMPLETED, FAILED or TERMINATED — ends are final.
 */
const NEXT: Record<ExecutionStatus, readonly ExecutionStatus[]> = {
  INCOMPLETE: ['QUEUED', 'RUNNING', 'TERMINATED', 'FAILED'],
  QUEUED: ['RUNNING', 'TERMINATED', 'FAILED'],
  RUNNING: ['COMPLETED', 'FAILED', 'TERMINATED', 'REVIEW'],
  REVIEW: ['RUNNING', 'TERMINATED', 'FAILED'],
  COMPLETED: [],
  FAILED: [],
  TERMINATED: [],
};

export const FINISHED_STATUSES: readonly ExecutionStatus[] = ['COMPLETED', 'FAILED', 'TERMINATED'];

/** The statuses from which `to` may be reached (what a compare-and-set checks in SQL). */
export function statusesLeadingTo(to: ExecutionStatus): ExecutionStatus[] {
  return (Object.keys(NEXT) as ExecutionStatus[]).filter((from) => NEXT[from].includes(to));
}

export function assertTransition(what: string, from: ExecutionStatus, to: ExecutionStatus): void {
  if (!NEXT[from].includes(to)) {
    const allowed = NEXT[from].length ? NEXT[from].join(', ') : 'nothing (it has finished)';
    throw conflict(`${what} cannot go from ${from} to ${to}; from ${from} it may go to ${allowed}.`);
  }
}

/** The timestamps a transition sets; existing ones are kept (a run resumed from REVIEW keeps its start). */
export function transitionTimestamps(
  to: ExecutionStatus,
  current: { queuedAt?: Date | null; startedAt: Date | null; endedAt: Date | null },
  now: Date,
): { queuedAt?: Date; startedAt?: Date; endedAt?: Date } {
  const stamps: { queuedAt?: Date; startedAt?: Date; endedAt?: Date } = {};
  if (to === 'QUEUED' && 'queuedAt' in current && !current.queuedAt) stamps.queuedAt = now;
  if (to === 'RUNNING' && !current.startedAt) stamps.startedAt = now;
  if (FINISHED_STATUSES.includes(to) && !current.endedAt) stamps.endedAt = now;
  return stamps;
}
