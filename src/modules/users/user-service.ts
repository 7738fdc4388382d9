import type { GraphQLContext } from '../../context.js';
import type { User } from '../../generated/prisma/client.js';
import type { UserFilter } from '../../generated/graphql.js';
import { connectionFromPage, type Connection } from '../shared/connection.js';
import { checkOptionalText } from '../shared/input.js';
import { decodeCursor, encodeCursor, pageSize } from '../shared/pagination.js';
import { countUsers, listUsers, type UserListFilter } from './user-store.js';

const ORDER = 'users:EMAIL:ASC';

/** Query.users, an admin's list of every user (the field's @auth requires ADMIN), by email. */
export async function userConnection(
  ctx: GraphQLContext,
  args: { first?: number | null; after?: string | null; filter?: UserFilter | null },
): Promise<Connection<User>> {
  const size = pageSize(args.first);
  const filter: UserListFilter = { search: checkOptionalText(args.filter?.search, 'filter.search', 100) || null };
  const afterEmail = args.after ? decodeCursor(args.after, ORDER, ['string'])[0] : null;
  const rows = await listUsers(ctx.db.sql, filter, afterEmail, size + 1);
  for (const row of rows) ctx.loaders.users.userById.prime(row.id, row);
  return connectionFromPage(rows, size, Boolean(args.after), (row) => encodeCursor(ORDER, [row.email]), () => countUsers(ctx.db.sql, filter));
}
