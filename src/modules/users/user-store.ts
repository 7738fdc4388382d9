import { Prisma, type User } from '../../generated/prisma/client.js';
import { limitLiteral, type SqlRunner } from '../../db/sql.js';
import { alignById } from '../shared/by-id.js';
import { containsPattern } from '../shared/input.js';
import { USER_TABLE } from './columns.js';

/** Users by id, in the order asked (null where absent). */
export async function usersByIds(sql: SqlRunner, ids: readonly string[]): Promise<Array<User | null>> {
  const rows = await sql.query<Record<string, unknown>>(Prisma.sql`
    SELECT ${USER_TABLE.select()} FROM users u WHERE u.id = ANY(${[...ids]}::uuid[])`);
  return alignById(ids, rows.map((row) => USER_TABLE.fromRow(row)));
}

/** What the users list filters on: text found in the email or the name, ignoring case; null: every user. */
export type UserListFilter = { search: string | null };

function userConditions(filter: UserListFilter, afterEmail: string | null): Prisma.Sql {
  const conditions = [Prisma.sql`true`];
  if (filter.search) {
    const pattern = containsPattern(filter.search);
    conditions.push(Prisma.sql`(u.email ILIKE ${pattern} OR u.name ILIKE ${pattern})`);
  }
  // Emails are unique, so the email alone is a stable keyset (walks the users_email_key index).
  if (afterEmail !== null) conditions.push(Prisma.sql`u.email > ${afterEmail}`);
  return Prisma.join(conditions, ' AND ');
}

/** A page of users by email, after the cursor's email. */
export async function listUsers(sql: SqlRunner, filter: UserListFilter, afterEmail: string | null, take: number): Promise<User[]> {
  const rows = await sql.query<Record<string, unknown>>(Prisma.sql`
    SELECT ${USER_TABLE.select()} FROM users u WHERE ${userConditions(filter, afterEmail)}
    ORDER BY u.email LIMIT ${limitLiteral(take)}`);
  return rows.map((row) => USER_TABLE.fromRow(row));
}

export async function countUsers(sql: SqlRunner, filter: UserListFilter): Promise<number> {
  const [row] = await sql.query<{ count: number }>(Prisma.sql`SELECT count(*)::int AS count FROM users u WHERE ${userConditions(filter, null)}`);
  return row?.count ?? 0;
}
