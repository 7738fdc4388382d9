import { Prisma, type Block } from '../../generated/prisma/client.js';
import { limitLiteral, type SqlRunner } from '../../db/sql.js';
import { alignById } from '../shared/by-id.js';
import { isUuid } from '../shared/ids.js';
import { containsPattern } from '../shared/input.js';
import { BLOCK_TABLE } from './columns.js';

const SELECT = BLOCK_TABLE.select();

/** Blocks by id, in the order asked (null where absent). A node's `blockId` is free text: a non-UUID names no block. */
export async function blocksByIds(sql: SqlRunner, ids: readonly string[]): Promise<Array<Block | null>> {
  const uuids = ids.filter(isUuid).map((id) => id.toLowerCase());
  if (uuids.length === 0) return ids.map(() => null);
  const rows = await sql.query<Block>(Prisma.sql`SELECT ${SELECT} FROM blocks b WHERE b.id = ANY(${uuids}::uuid[])`);
  return alignById(ids.map((id) => id.toLowerCase()), rows);
}

export type BlockListFilter = { nameContains: string | null; category: string | null; includeDisabled: boolean };

function conditions(filter: BlockListFilter, afterName: string | null = null): Prisma.Sql {
  const where: Prisma.Sql[] = [];
  if (!filter.includeDisabled) where.push(Prisma.sql`NOT b.disabled`);
  if (filter.nameContains) where.push(Prisma.sql`b.name ILIKE ${containsPattern(filter.nameContains)}`);
  if (filter.category) where.push(Prisma.sql`${filter.category} = ANY(b.categories)`);
  if (afterName !== null) where.push(Prisma.sql`b.name COLLATE "C" > ${afterName}`);
  return where.length ? Prisma.sql`WHERE ${Prisma.join(where, ' AND ')}` : Prisma.empty;
}

/** One page of the catalogue by name (names are unique: the keyset), after the block named `afterName`. */
export async function listBlocks(sql: SqlRunner, page: { limit: number; afterName: string | null; filter: BlockListFilter }): Promise<Block[]> {
  return sql.query<Block>(Prisma.sql`
    SELECT ${SELECT} FROM blocks b ${conditions(page.filter, page.afterName)} ORDER BY b.name COLLATE "C" LIMIT ${limitLiteral(page.limit)}`);
}

export async function countBlocks(sql: SqlRunner, filter: BlockListFilter): Promise<number> {
  const [row] = await sql.query<{ count: number }>(Prisma.sql`SELECT count(*)::int AS count FROM blocks b ${conditions(filter)}`);
  return row?.count ?? 0;
}
