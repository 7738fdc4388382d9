import { createWorld, type World } from '../helpers/authz.js';
import type { DatabaseKind } from '../../src/db/database.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { createClient, type CaseCounter, type HostileClient } from './harness.js';

/** What the hostile suites aim at: the authz world (users A, B, admin with graphs and runs) plus sessions of A and B. */
export type HostileWorld = World & {
  sessions: { A: string; B: string; bTeam: string };
  /** A's session event ids and A's node ids, for filters and cursors. */
  aNodeId: string;
};

export async function createHostileWorld(server: TestServer): Promise<HostileWorld> {
  const world = await createWorld(server);
  const create = async (key: string | null, input: Record<string, unknown>) => {
    const res = await server.graphql<{ createSession: { session: { id: string } } }>(
      'mutation($input: CreateSessionInput!) { createSession(input: $input) { session { id } } }',
      { input },
      key,
    );
    if (!res.data) throw new Error(`createSession failed: ${JSON.stringify(res.errors)}`);
    return res.data.createSession.session.id;
  };
  const A = await create(world.keys.A, { appName: 'hostile', agentId: 'agent-a', metadata: { team: 'a', tags: ['x'] }, state: { n: 1 } });
  const bTeam = await create(world.keys.B, { appName: 'hostile', agentId: 'team-b' });
  const B = await create(world.keys.B, { appName: 'hostile', agentId: 'agent-b', teamSessionId: bTeam });
  for (const [id, key] of [[A, world.keys.A], [B, world.keys.B]] as const) {
    const res = await server.graphql(
      'mutation($id: ID!, $events: [SessionEventInput!]!) { appendSessionEvents(sessionId: $id, events: $events) { session { id } } }',
      { id, events: Array.from({ length: 5 }, (_, i) => ({ author: i % 2 ? 'user' : 'agent', branch: i % 2 ? 'root.a' : 'root.ab', clientEventId: `seed-${i}`, content: { text: `event ${i}` } })) },
      key,
    );
    if (res.errors) throw new Error(`append failed: ${JSON.stringify(res.errors)}`);
  }
  const node = await server.db.prisma.node.findFirstOrThrow({ where: { graphId: world.A.graphId } });
  return { ...world, sessions: { A, B, bTeam }, aNodeId: node.id };
}

/** Each hostile suite's setup: the real server on a fresh database of `kind`, its fixtures and a counting client. */
export async function openHostileServer(kind: DatabaseKind, counter: CaseCounter): Promise<{ server: TestServer; world: HostileWorld; client: HostileClient }> {
  const server = await startTestServer({ database: kind });
  const world = await createHostileWorld(server);
  return { server, world, client: createClient(server, counter) };
}
