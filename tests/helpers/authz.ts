import { randomUUID } from 'node:crypto';
import { print, type DirectiveNode } from 'graphql';
import { expect } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { createApiKey, createGraph, createRun, createUser } from './factories.js';
import type { GraphQLResponse, TestServer } from './server.js';

/** Who sends a request in the authorization tests. */
export type Actor = 'A' | 'B' | 'admin' | 'aRead' | 'aNoRead' | 'anonymous';

/** What one user owns in the matrix: a graph with an inactive v1 and an active v2, a run of v2 and its node executions. */
export type Owned = { userId: string; apiKeyId: string; graphId: string; runId: string; nodeExecutionIds: string[] };

/** A user's share of the matrix (see Owned), built from the factories. */
export async function createOwned(db: Database, userId: string, label: string): Promise<Omit<Owned, 'apiKeyId'>> {
  const { graph } = await createGraph(db, userId, { name: `${label} graph v1`, isActive: false });
  await createGraph(db, userId, { name: `${label} graph`, version: 2 }, graph.id);
  const run = await createRun(db, { graphId: graph.id, version: 2, userId });
  return { userId, graphId: graph.id, runId: run.runId, nodeExecutionIds: run.nodeExecutionIds };
}

/** Ids that name nothing: what another user's ids must look like from the outside. */
export function missingIds(): Owned {
  return { userId: randomUUID(), apiKeyId: randomUUID(), graphId: randomUUID(), runId: randomUUID(), nodeExecutionIds: [randomUUID()] };
}

export type World = {
  server: TestServer;
  keys: Record<Actor, string | null>;
  users: { A: string; B: string; admin: string };
  A: Owned;
  B: Owned;
  missing: Owned;
  aReadKeyId: string;
  aNoReadKeyId: string;
};

/**
 * The matrix's actors and fixtures: user A (the server's user), user B, an admin, two narrower keys of A's (only
 * READ_GRAPHS; WRITE_GRAPHS + EXECUTE_GRAPHS without READ_GRAPHS), anonymous; each of A and B owns a graph with
 * two versions, a run and its node executions.
 */
export async function createWorld(server: TestServer): Promise<World> {
  const db = server.db;
  const b = await createUser(db, { name: 'User B' });
  const admin = await createUser(db, { admin: true, name: 'Admin' });
  const aRead = await createApiKey(db, server.userId, ['READ_GRAPHS'], { name: 'read only' });
  const aNoRead = await createApiKey(db, server.userId, ['WRITE_GRAPHS', 'EXECUTE_GRAPHS'], { name: 'write and execute, no read' });
  const keyIdOf = async (userId: string) => (await db.prisma.apiKey.findFirstOrThrow({ where: { userId, name: 'test key' } })).id;
  const A = { ...(await createOwned(db, server.userId, 'A')), apiKeyId: await keyIdOf(server.userId) };
  const B = { ...(await createOwned(db, b.user.id, 'B')), apiKeyId: await keyIdOf(b.user.id) };
  return {
    server,
    keys: { A: server.apiKey, B: b.apiKey, admin: admin.apiKey, aRead: aRead.key, aNoRead: aNoRead.key, anonymous: null },
    users: { A: server.userId, B: b.user.id, admin: admin.user.id },
    A,
    B,
    missing: missingIds(),
    aReadKeyId: aRead.id,
    aNoReadKeyId: aNoRead.id,
  };
}

/**
 * Every row a refused mutation could have touched. `api_keys.last_used_at` is left out: authentication moves it
 * in the background on any request, which is bookkeeping, not a change the caller made.
 */
export async function snapshot(db: Database) {
  const byId = { orderBy: { id: 'asc' as const } };
  const [users, apiKeys, graphs, nodes, links, graphExecutions, nodeExecutions] = await Promise.all([
    db.prisma.user.findMany(byId),
    db.prisma.apiKey.findMany({ ...byId, omit: { lastUsedAt: true } }),
    db.prisma.graph.findMany({ orderBy: [{ id: 'asc' }, { version: 'asc' }] }),
    db.prisma.node.findMany(byId),
    db.prisma.link.findMany(byId),
    db.prisma.graphExecution.findMany(byId),
    db.prisma.nodeExecution.findMany(byId),
  ]);
  return { users, apiKeys, graphs, nodes, links, graphExecutions, nodeExecutions };
}

/** The error code of the first error, for readable assertions. */
export const codeOf = (res: GraphQLResponse<unknown>) => res.errors?.[0]?.extensions?.code;

/** An error message with its uuids replaced, to compare "someone else's id" with "no such id". */
export const messageShape = (res: GraphQLResponse<unknown>) =>
  res.errors?.[0]?.message.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<id>');

/** Asserts a refusal with the given code and no data for the refused field. */
export function expectRefused(res: GraphQLResponse<unknown>, code: string, label = '') {
  expect(res.errors, `${label} should be refused with ${code}, got ${JSON.stringify(res)}`).toBeDefined();
  expect(codeOf(res), `${label}: ${JSON.stringify(res.errors)}`).toBe(code);
  expect(res.status, label).toBeLessThan(500);
}

/** Asserts a successful answer. */
export function expectOk(res: GraphQLResponse<unknown>, label = '') {
  expect(res.errors, `${label}: ${JSON.stringify(res.errors)}`).toBeUndefined();
  expect(res.status, label).toBe(200);
}

/** base64url of a JSON array: a cursor in this server's format, for forging. */
export const forgeCursor = (values: unknown[]) => Buffer.from(JSON.stringify(values)).toString('base64url');

/** Whether a field's own @auth rule asks for ADMIN (a list of every user's rows, like `Query.users`). */
export const requiresAdmin = (field: { astNode?: { directives?: readonly DirectiveNode[] } | null }) =>
  field.astNode?.directives?.some((d) => d.name.value === 'auth' && print(d).includes('ADMIN')) ?? false;
