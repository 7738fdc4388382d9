import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseKinds } from '../helpers/databases.js';
import { createUser } from '../helpers/factories.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const USERS = /* GraphQL */ `
  query Users($first: Int, $after: String, $filter: UserFilter) {
    users(first: $first, after: $after, filter: $filter) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes { id email name permissions }
    }
  }
`;

type UsersPage = {
  users: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: Array<{ id: string; email: string; name: string | null; permissions: string[] | null }> };
};

describe.each(testDatabaseKinds)('the users list (an admin’s user picker) on %s', (kind) => {
  let server: TestServer;
  let admin: Awaited<ReturnType<typeof createUser>>;

  beforeAll(async () => {
    server = await startTestServer({ database: kind });
    admin = await createUser(server.db, { admin: true, email: 'zz-admin@example.com' });
    for (const [email, name] of [
      ['ada@picker.test', 'Ada Lovelace'],
      ['grace@picker.test', 'Grace Hopper'],
      ['edsger@picker.test', null],
      ['under_score@picker.test', 'Percent 100%'],
      ['alan@elsewhere.test', 'Alan Turing (picker team)'],
    ] as const) {
      await createUser(server.db, { email, ...(name ? { name } : {}) });
    }
  });
  afterAll(() => server?.close());

  const allEmails = async () => (await server.db.prisma.user.findMany({ select: { email: true } })).map((u) => u.email);

  it('lists every user by email, in pages that cover them all exactly once', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const res: { data?: UsersPage | null; errors?: unknown } = await server.graphql<UsersPage>(USERS, { first: 2, after }, admin.apiKey);
      expect(res.errors).toBeUndefined();
      const page: UsersPage['users'] = res.data!.users;
      expect(page.totalCount).toBe((await allEmails()).length);
      seen.push(...page.nodes.map((n) => n.email));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    // The database's own order of emails (its collation), which the keyset follows.
    const expected = await server.db.prisma.$queryRaw<Array<{ email: string }>>`SELECT email FROM users ORDER BY email`;
    expect(seen).toEqual(expected.map((row) => row.email));
  });

  it('searches email and name, ignoring case, with LIKE wildcards taken literally', async () => {
    const search = async (text: string) => {
      const res = await server.graphql<UsersPage>(USERS, { filter: { search: text } }, admin.apiKey);
      expect(res.errors).toBeUndefined();
      return res.data!.users;
    };
    const picker = await search('PICKER');
    expect(picker.nodes.map((n) => n.email)).toEqual(
      expect.arrayContaining(['ada@picker.test', 'alan@elsewhere.test', 'edsger@picker.test', 'grace@picker.test', 'under_score@picker.test']),
    );
    expect(picker.totalCount).toBe(5);
    expect((await search('hopper')).nodes.map((n) => n.email)).toEqual(['grace@picker.test']);
    expect((await search('_')).nodes.map((n) => n.email)).toEqual(['under_score@picker.test']);
    expect((await search('%')).nodes.map((n) => n.email)).toEqual(['under_score@picker.test']);
    expect((await search('')).totalCount).toBe((await allEmails()).length);
    // Another user's key permissions are not shown, only the viewer's own.
    expect(picker.nodes.every((n) => n.permissions === null)).toBe(true);
  });

  it('is refused without ADMIN, and bad arguments are BAD_USER_INPUT', async () => {
    const normal = await server.graphql<UsersPage>(USERS, {});
    expect(normal.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(normal.data).toBeNull();
    for (const variables of [{ first: 101 }, { after: 'forged' }, { filter: { search: 'x'.repeat(101) } }]) {
      const res = await server.graphql(USERS, variables, admin.apiKey);
      expect(res.errors?.map((e) => e.extensions?.code), JSON.stringify(variables)).toEqual(['BAD_USER_INPUT']);
    }
  });
});
