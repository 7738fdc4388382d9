import { Prisma, type User } from '../../generated/prisma/client.js';
import type { SqlRunner } from '../../db/sql.js';
import { alignById } from '../shared/by-id.js';

/** Users by id, in the order asked (null where absent). */
export async function usersByIds(sql: SqlRunner, ids: readonly string[]): Promise<Array<User | null>> {
  const rows = await sql.query<User>(Prisma.sql`
    SELECT u.id, u.email, u.name, u.metadata, u.created_at AS "createdAt", u.updated_at AS "updatedAt"
    FROM users u WHERE u.id = ANY(${[...ids]}::uuid[])`);
  return alignById(ids, rows);
}
