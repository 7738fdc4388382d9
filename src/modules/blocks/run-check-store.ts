/** The one read `executeGraph` makes before it writes: the version to run and what its checks need. */
import { Prisma, type Block, type Link, type Node } from '../../generated/prisma/client.js';
import type { SqlRunner } from '../../db/sql.js';
import { CURRENT_VERSION_FIRST } from '../graphs/graph-store.js';
import { LINK_TABLE, NODE_TABLE } from '../graphs/columns.js';
import { BLOCK_TABLE } from './columns.js';

/** A version about to run and, when it was written under the catalogue's rules, the definition a run is checked on. */
export type VersionToRun = {
  id: string;
  version: number;
  blocksChecked: boolean;
  nodes: Array<Pick<Node, 'id' | 'blockId' | 'nodeType' | 'inputDefault'>> | null;
  links: Array<Pick<Link, 'id' | 'sourceId' | 'sinkId' | 'sourceName' | 'sinkName' | 'isStatic'>> | null;
  /** The blocks its nodes name (JSON: timestamps arrive as text; `versionToRun` revives them). */
  blocks: Block[] | null;
  /** The catalogue revision these blocks were read at. */
  catalogueRevision: number;
};

const RUN_NODE_COLUMNS = NODE_TABLE.select((['id', 'blockId', 'nodeType', 'inputDefault'] as const).map((key) => NODE_TABLE.column(key)));
const RUN_LINK_COLUMNS = LINK_TABLE.select((['id', 'sourceId', 'sinkId', 'sourceName', 'sinkName', 'isStatic'] as const).map((key) => LINK_TABLE.column(key)));
const BLOCK_COLUMNS = BLOCK_TABLE.select();

/**
 * In one statement, the version `executeGraph` would run (the one asked for, else the active one, else the newest)
 * if `ownerId` owns it (null: anyone's), with its nodes, links and their blocks when the run is to be checked.
 * Versions are immutable: what is read here is what the run's INSERT, given this version, writes node executions for.
 */
export async function versionToRun(sql: SqlRunner, target: { graphId: string; version: number | null; ownerId: string | null }): Promise<VersionToRun | null> {
  const rows = await sql.query<VersionToRun>(Prisma.sql`
    SELECT g.id, g.version, g.blocks_checked AS "blocksChecked", (SELECT r.revision FROM block_catalogue_revision r WHERE r.id = 1) AS "catalogueRevision",
      CASE WHEN g.blocks_checked THEN (
        SELECT coalesce(json_agg(d ORDER BY d.id), '[]'::json) FROM (SELECT ${RUN_NODE_COLUMNS} FROM nodes n WHERE n.graph_id = g.id AND n.graph_version = g.version) d
      ) END AS nodes,
      CASE WHEN g.blocks_checked THEN (
        SELECT coalesce(json_agg(d ORDER BY d.id), '[]'::json) FROM (SELECT ${RUN_LINK_COLUMNS} FROM links l WHERE l.graph_id = g.id AND l.graph_version = g.version) d
      ) END AS links,
      CASE WHEN g.blocks_checked THEN (
        SELECT coalesce(json_agg(d), '[]'::json) FROM (
          SELECT ${BLOCK_COLUMNS} FROM blocks b
          WHERE b.id::text IN (SELECT lower(n.block_id) FROM nodes n WHERE n.graph_id = g.id AND n.graph_version = g.version)
        ) d
      ) END AS blocks
    FROM graphs g
    WHERE g.id = ${target.graphId}::uuid${target.version === null ? Prisma.empty : Prisma.sql` AND g.version = ${target.version}`}${
      target.ownerId === null ? Prisma.empty : Prisma.sql` AND g.user_id = ${target.ownerId}::uuid`
    }
    ORDER BY ${CURRENT_VERSION_FIRST} LIMIT 1`);
  const row = rows[0];
  if (!row) return null;
  row.blocks?.forEach((block) => {
    block.createdAt = new Date(block.createdAt);
    block.updatedAt = new Date(block.updatedAt);
  });
  return row;
}

/** Records that a version can run whatever its inputs at this catalogue revision: its next runs take one statement. */
export async function stampRunnable(sql: SqlRunner, version: { id: string; version: number }, revision: number): Promise<void> {
  await sql.query(Prisma.sql`
    UPDATE graphs SET runnable_revision = ${revision}::int
    WHERE id = ${version.id}::uuid AND version = ${version.version}::int AND runnable_revision IS DISTINCT FROM ${revision}::int`);
}
