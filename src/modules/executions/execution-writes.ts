import { uuidv7 } from '../shared/ids.js';
import { Prisma, type ExecutionStatus, type GraphExecution, type NodeExecution, type PrismaClient } from '../../generated/prisma/client.js';
import type { SqlRunner } from '../../db/sql.js';
import { CURRENT_VERSION_FIRST } from '../graphs/graph-store.js';
import { graphExecutionColumns, nodeExecutionModelColumns, prefixedGraphExecutionColumns, runFromPrefixed } from './execution-sql.js';
import { FINISHED_STATUSES } from './status-transitions.js';

type JsonInput = Prisma.InputJsonValue;

const jsonb = (value: JsonInput) => Prisma.sql`${JSON.stringify(value)}::jsonb`;
const timestamp = (value: Date) => Prisma.sql`${value}::timestamptz`;
const status = (value: ExecutionStatus) => Prisma.sql`${value}::"ExecutionStatus"`;

/**
 * A QUEUED run of one graph version with an INCOMPLETE node execution per node, in one statement (atomic without
 * a transaction): picks the version asked for, or the current one (active, else newest), and writes nothing unless
 * `ownerId` (null: anyone's, for admins) owns it and, with `onlyIfRunnable`, the version runs without a check: it was
 * stored before the catalogue (unchecked, as it always ran) or found runnable whatever its inputs at the catalogue's
 * current revision. Returns the run as the loaders read it, or null when nothing was written. The node executions
 * carry their copies of the run and node (user_id, run_created_at, block_id), so the fill trigger does not fire.
 */
export async function createGraphExecution(
  sql: SqlRunner,
  input: { graphId: string; version: number | null; ownerId: string | null; userId: string; inputs: JsonInput; onlyIfRunnable: boolean },
): Promise<GraphExecution | null> {
  const conditions = [
    ...(input.ownerId === null ? [] : [Prisma.sql`picked.user_id = ${input.ownerId}::uuid`]),
    ...(input.onlyIfRunnable
      ? [Prisma.sql`(NOT picked.blocks_checked OR picked.runnable_revision = (SELECT r.revision FROM block_catalogue_revision r WHERE r.id = 1))`]
      : []),
  ];
  const rows = await sql.query<GraphExecution>(Prisma.sql`
    WITH picked AS (
      SELECT g.id, g.version, g.user_id, g.blocks_checked, g.runnable_revision FROM graphs g
      WHERE g.id = ${input.graphId}::uuid${input.version === null ? Prisma.empty : Prisma.sql` AND g.version = ${input.version}`}
      ORDER BY ${CURRENT_VERSION_FIRST} LIMIT 1
    ), run AS (
      INSERT INTO graph_executions AS e (id, graph_id, graph_version, user_id, status, inputs, created_at, updated_at)
      SELECT ${uuidv7()}::uuid, picked.id, picked.version, ${input.userId}::uuid, 'QUEUED'::"ExecutionStatus", ${jsonb(input.inputs)}, now(), now()
      FROM picked${conditions.length ? Prisma.sql` WHERE ${Prisma.join(conditions, ' AND ')}` : Prisma.empty}
      RETURNING ${graphExecutionColumns()}
    ), node_runs AS (
      INSERT INTO node_executions (id, graph_execution_id, node_id, status, inputs, added_at, user_id, run_created_at, block_id)
      SELECT gen_random_uuid(), run.id, n.id, 'INCOMPLETE'::"ExecutionStatus", '{}'::jsonb, now(), run."userId", run."createdAt", n.block_id
      FROM run JOIN nodes n ON n.graph_id = run."graphId" AND n.graph_version = run."graphVersion"
      ORDER BY n.id
    )
    SELECT * FROM run`);
  return rows[0] ?? null;
}

export type GraphExecutionChange = {
  status: ExecutionStatus;
  outputs?: JsonInput;
  stats?: JsonInput;
  errorMessage?: string | null;
  startedAt?: Date;
  endedAt?: Date;
};

/** SET items of a change; undefined fields are left alone (as Prisma's `data` does), a null error message clears it. */
function changeAssignments(change: GraphExecutionChange & { inputs?: JsonInput; queuedAt?: Date; cost?: number }): Prisma.Sql[] {
  const sets = [Prisma.sql`status = ${status(change.status)}`];
  if (change.inputs !== undefined) sets.push(Prisma.sql`inputs = ${jsonb(change.inputs)}`);
  if (change.outputs !== undefined) sets.push(Prisma.sql`outputs = ${jsonb(change.outputs)}`);
  if (change.stats !== undefined) sets.push(Prisma.sql`stats = ${jsonb(change.stats)}`);
  if (change.cost !== undefined) sets.push(Prisma.sql`cost = ${change.cost}::int`);
  if (change.errorMessage !== undefined) sets.push(Prisma.sql`error_message = ${change.errorMessage}::text`);
  if (change.queuedAt) sets.push(Prisma.sql`queued_at = ${timestamp(change.queuedAt)}`);
  if (change.startedAt) sets.push(Prisma.sql`started_at = ${timestamp(change.startedAt)}`);
  if (change.endedAt) sets.push(Prisma.sql`ended_at = ${timestamp(change.endedAt)}`);
  return sets;
}

/**
 * A run's status change in one statement, applied only if the run is still in a status from which `to` is legal
 * (`from`), is not deleted and, unless `ownerId` is null (admins), belongs to `ownerId`. The transition's
 * timestamps are set from the row itself (a start only if there is none yet, an end only once). Racing changes
 * serialize on the row: each is judged against the status the other left. Returns the changed run, or null when
 * nothing applied (the caller then finds out why).
 */
export async function changeGraphExecutionStatus(
  sql: SqlRunner,
  target: { id: string; ownerId: string | null },
  to: ExecutionStatus,
  from: readonly ExecutionStatus[],
  change: Omit<GraphExecutionChange, 'status' | 'startedAt' | 'endedAt'>,
  at: Date,
): Promise<GraphExecution | null> {
  const sets = [...changeAssignments({ ...change, status: to }), Prisma.sql`updated_at = ${timestamp(at)}`];
  if (to === 'RUNNING') sets.push(Prisma.sql`started_at = coalesce(e.started_at, ${timestamp(at)})`);
  if (FINISHED_STATUSES.includes(to)) sets.push(Prisma.sql`ended_at = coalesce(e.ended_at, ${timestamp(at)})`);
  const owner = target.ownerId === null ? Prisma.empty : Prisma.sql` AND e.user_id = ${target.ownerId}::uuid`;
  const rows = await sql.query<GraphExecution>(Prisma.sql`
    UPDATE graph_executions AS e SET ${Prisma.join(sets)}
    WHERE e.id = ${target.id}::uuid AND NOT e.is_deleted AND e.status IN (${Prisma.join(from.map(status))})${owner}
    RETURNING ${graphExecutionColumns()}`);
  return rows[0] ?? null;
}

export type NodeExecutionChange = GraphExecutionChange & { inputs?: JsonInput; queuedAt?: Date; cost?: number };

const RUN_PREFIX = 'run.';

/**
 * Compare-and-set like runs; a changed cost is added (as the difference to the cost the caller read) to the run's
 * cost in the same statement. With a cost, the row must also still have the cost read, so the difference is exact.
 * Returns the changed node execution and, when its cost was rolled up, the changed run; null if it did not apply.
 */
export async function transitionNodeExecution(
  sql: SqlRunner,
  target: { id: string; previousCost: number },
  from: ExecutionStatus,
  change: NodeExecutionChange,
  at: Date,
): Promise<{ nodeExecution: NodeExecution; run: GraphExecution | null } | null> {
  const delta = change.cost === undefined ? 0 : change.cost - target.previousCost;
  const sameCost = change.cost === undefined ? Prisma.empty : Prisma.sql` AND n.cost = ${target.previousCost}::int`;
  const changed = Prisma.sql`
    UPDATE node_executions AS n SET ${Prisma.join(changeAssignments(change))}
    WHERE n.id = ${target.id}::uuid AND n.status = ${status(from)}${sameCost}
    RETURNING ${nodeExecutionModelColumns()}`;
  const rows =
    delta === 0
      ? await sql.query<Record<string, unknown>>(changed)
      : await sql.query<Record<string, unknown>>(Prisma.sql`
          WITH changed AS (${changed}), run AS (
            UPDATE graph_executions AS e SET cost = e.cost + ${delta}::int, updated_at = ${timestamp(at)}
            FROM changed WHERE e.id = changed."graphExecutionId"
            RETURNING ${graphExecutionColumns()}
          )
          SELECT changed.*, ${prefixedGraphExecutionColumns({ cte: 'run' }, RUN_PREFIX)} FROM changed LEFT JOIN run ON true`);
  if (!rows[0]) return null;
  const { rest, run } = runFromPrefixed<NodeExecution, GraphExecution>(rows[0], RUN_PREFIX);
  return { nodeExecution: rest, run };
}

export async function softDeleteGraphExecution(prisma: PrismaClient, id: string): Promise<boolean> {
  const { count } = await prisma.graphExecution.updateMany({ where: { id, isDeleted: false }, data: { isDeleted: true } });
  return count === 1;
}
