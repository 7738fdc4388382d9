import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, expectOk, expectRefused, messageShape, snapshot, type World } from '../../helpers/authz.js';
import { testDatabaseKinds } from '../../helpers/databases.js';
import { startTestServer } from '../../helpers/server.js';

const CREATE_KEY = /* GraphQL */ `
  mutation($name: String!, $permissions: [ApiKeyPermission!]!) {
    createApiKey(name: $name, permissions: $permissions) {
      secret
      apiKey { id name prefix permissions status createdAt lastUsedAt revokedAt }
    }
  }
`;
const REVOKE_KEY = 'mutation($id: ID!) { revokeApiKey(id: $id) { apiKey { id status revokedAt } } }';
const LIST_KEYS = '{ viewer { apiKeys(first: 100) { totalCount nodes { id name prefix permissions status createdAt lastUsedAt revokedAt } } } }';

type CreatedKey = {
  createApiKey: {
    secret: string;
    apiKey: { id: string; name: string; prefix: string; permissions: string[]; status: string; createdAt: string; lastUsedAt: string | null; revokedAt: string | null };
  };
};

describe.each(testDatabaseKinds)('API key lifecycle on %s', (kind) => {
  let w: World;

  beforeAll(async () => {
    w = await createWorld(await startTestServer({ database: kind }));
  });
  afterAll(() => w?.server.close());

  const createKey = async (permissions: string[], key: string | null = w.keys.A, name = 'ci key') => {
    const res = await w.server.graphql<CreatedKey>(CREATE_KEY, { name, permissions }, key);
    expectOk(res, 'createApiKey');
    return res.data!.createApiKey;
  };

  it('createApiKey answers a secret that works as a Bearer key at once, with exactly the granted permissions', async () => {
    const created = await createKey(['READ_GRAPHS']);
    expect(created.secret).toMatch(/^agk_[A-Za-z0-9]{8}_[A-Za-z0-9_-]{43}$/);
    expect(created.apiKey).toMatchObject({ name: 'ci key', prefix: created.secret.slice(0, 12), permissions: ['READ_GRAPHS'], status: 'ACTIVE', lastUsedAt: null, revokedAt: null });

    const viewer = await w.server.graphql<{ viewer: { id: string; permissions: string[] } }>('{ viewer { id permissions } }', {}, created.secret);
    expectOk(viewer);
    expect(viewer.data!.viewer).toEqual({ id: w.users.A, permissions: ['READ_GRAPHS'] });
    const graph = await w.server.graphql<{ graph: { id: string } }>('query($id: ID!) { graph(id: $id) { id } }', { id: w.A.graphId }, created.secret);
    expect(graph.data?.graph.id).toBe(w.A.graphId);
    // Only what was granted: no writes.
    const write = await w.server.graphql('mutation($id: ID!) { deleteGraph(id: $id) { deletedGraphId } }', { id: w.A.graphId }, created.secret);
    expectRefused(write, 'FORBIDDEN');
  });

  it('stores neither the secret nor anything trivially derived from it: only the prefix and a hash', async () => {
    const created = await createKey(['READ_GRAPHS', 'EXECUTE_GRAPHS'], w.keys.A, 'stored key');
    const secretPart = created.secret.slice(13);
    const rows = await w.server.db.prisma.$queryRawUnsafe<Array<Record<string, unknown>>>('SELECT * FROM api_keys WHERE id = $1::uuid', created.apiKey.id);
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(Object.keys(row).sort()).toEqual(['created_at', 'id', 'last_used_at', 'name', 'permissions', 'prefix', 'revoked_at', 'secret_hash', 'status', 'user_id']);
    expect(row.prefix).toBe(created.secret.slice(0, 12));
    expect(row.secret_hash).toMatch(/^[0-9a-f]{64}$/);

    const forbidden = [
      created.secret,
      secretPart,
      secretPart.slice(0, 16),
      [...secretPart].reverse().join(''),
      Buffer.from(secretPart, 'base64url').toString('hex'),
      Buffer.from(secretPart, 'base64url').toString('base64'),
      Buffer.from(created.secret).toString('base64'),
      Buffer.from(created.secret).toString('hex'),
    ];
    for (const [column, value] of Object.entries(row)) {
      const text = value instanceof Date ? value.toISOString() : JSON.stringify(value);
      for (const needle of forbidden) expect(text.toLowerCase(), `column ${column}`).not.toContain(needle.toLowerCase());
    }
    // The whole table, every key: the secret appears nowhere.
    const all = JSON.stringify(await w.server.db.prisma.$queryRawUnsafe('SELECT * FROM api_keys'));
    expect(all).not.toContain(secretPart);
  });

  it('viewer.apiKeys lists the new key without any secret or hash', async () => {
    const created = await createKey(['READ_GRAPHS'], w.keys.A, 'listed key');
    const res = await w.server.graphql<{ viewer: { apiKeys: { totalCount: number; nodes: Array<{ id: string; prefix: string; name: string }> } } }>(LIST_KEYS, {}, w.keys.A);
    expectOk(res);
    const listed = res.data!.viewer.apiKeys.nodes.find((k) => k.id === created.apiKey.id);
    expect(listed).toMatchObject({ name: 'listed key', prefix: created.secret.slice(0, 12) });
    const stored = await w.server.db.prisma.apiKey.findUniqueOrThrow({ where: { id: created.apiKey.id } });
    const body = JSON.stringify(res);
    expect(body).not.toContain(created.secret.slice(13));
    expect(body).not.toContain(stored.secretHash);
    // No field of the API exposes a secret or a hash.
    const type = await w.server.graphql<{ __type: { fields: Array<{ name: string }> } }>('{ __type(name: "ApiKey") { fields { name } } }', {}, w.keys.A);
    expect(type.data!.__type.fields.map((f) => f.name).filter((name) => /secret|hash/i.test(name))).toEqual([]);
  });

  it('revokeApiKey makes the key fail with HTTP 401 UNAUTHENTICATED on the very next request', async () => {
    const created = await createKey(['READ_GRAPHS']);
    expectOk(await w.server.graphql('{ viewer { id } }', {}, created.secret));
    const res = await w.server.graphql<{ revokeApiKey: { apiKey: { id: string; status: string; revokedAt: string | null } } }>(REVOKE_KEY, { id: created.apiKey.id }, w.keys.A);
    expectOk(res);
    expect(res.data!.revokeApiKey.apiKey).toMatchObject({ id: created.apiKey.id, status: 'REVOKED' });
    expect(res.data!.revokeApiKey.apiKey.revokedAt).not.toBeNull();

    const after = await w.server.graphql('{ viewer { id } }', {}, created.secret);
    expect(after.status).toBe(401);
    expectRefused(after, 'UNAUTHENTICATED');
    expect(after.data ?? null).toBeNull();
    // Listed as revoked, not gone.
    const list = await w.server.graphql<{ viewer: { apiKeys: { nodes: Array<{ id: string; status: string }> } } }>(LIST_KEYS, {}, w.keys.A);
    expect(list.data!.viewer.apiKeys.nodes.find((k) => k.id === created.apiKey.id)?.status).toBe('REVOKED');
  });

  it('revoking twice keeps the first revocation time', async () => {
    const created = await createKey(['READ_GRAPHS']);
    const first = await w.server.graphql<{ revokeApiKey: { apiKey: { revokedAt: string } } }>(REVOKE_KEY, { id: created.apiKey.id }, w.keys.A);
    const second = await w.server.graphql<{ revokeApiKey: { apiKey: { status: string; revokedAt: string } } }>(REVOKE_KEY, { id: created.apiKey.id }, w.keys.A);
    expectOk(second);
    expect(second.data!.revokeApiKey.apiKey).toEqual({ id: created.apiKey.id, status: 'REVOKED', revokedAt: first.data!.revokeApiKey.apiKey.revokedAt });
  });

  it('revoking someone else’s key is NOT_FOUND like a missing id, and the key keeps working', async () => {
    const before = await snapshot(w.server.db);
    const theirs = await w.server.graphql(REVOKE_KEY, { id: w.B.apiKeyId }, w.keys.A);
    const missing = await w.server.graphql(REVOKE_KEY, { id: w.missing.apiKeyId }, w.keys.A);
    expectRefused(theirs, 'NOT_FOUND');
    expect(messageShape(theirs)).toBe(messageShape(missing));
    expect(await snapshot(w.server.db)).toEqual(before);
    expectOk(await w.server.graphql('{ viewer { id } }', {}, w.keys.B));
  });

  it('an admin can revoke another user’s key, which then answers 401', async () => {
    const created = await createKey(['READ_GRAPHS'], w.keys.B, 'B’s spare key');
    const res = await w.server.graphql(REVOKE_KEY, { id: created.apiKey.id }, w.keys.admin);
    expectOk(res);
    expect((await w.server.graphql('{ viewer { id } }', {}, created.secret)).status).toBe(401);
  });

  it('a narrow key can mint keys within its own permissions only; an admin may grant ADMIN', async () => {
    const narrow = await createKey(['READ_GRAPHS'], w.keys.aRead, 'from the read-only key');
    expect(narrow.apiKey.permissions).toEqual(['READ_GRAPHS']);
    const viaNarrow = await w.server.graphql<{ viewer: { id: string } }>('{ viewer { id } }', {}, narrow.secret);
    expect(viaNarrow.data?.viewer.id).toBe(w.users.A);

    const admin = await createKey(['ADMIN'], w.keys.admin, 'second admin key');
    expect(admin.apiKey.permissions).toEqual(['ADMIN']);
    const all = await w.server.graphql<{ graphs: { totalCount: number } }>('{ graphs { totalCount } }', {}, admin.secret);
    expect(all.data?.graphs.totalCount).toBe(await w.server.db.prisma.graph.count({ where: { isActive: true } }));
  });

  it('a key created by A belongs to A: B cannot see or revoke it', async () => {
    const created = await createKey(['READ_GRAPHS']);
    const list = await w.server.graphql<{ viewer: { apiKeys: { nodes: Array<{ id: string }> } } }>(LIST_KEYS, {}, w.keys.B);
    expect(list.data!.viewer.apiKeys.nodes.map((k) => k.id)).not.toContain(created.apiKey.id);
    expectRefused(await w.server.graphql(REVOKE_KEY, { id: created.apiKey.id }, w.keys.B), 'NOT_FOUND');
    expectOk(await w.server.graphql('{ viewer { id } }', {}, created.secret));
  });
});
