import { randomUUID } from 'node:crypto';
import type { Database } from '../../src/db/database.js';
import type { ApiKeyPermission, ExecutionStatus, Node, NodeType, Prisma, SessionStatus } from '../../src/generated/prisma/client.js';
import { generateApiKeySecret } from '../../src/modules/auth/api-key-secret.js';
import { builtInCatalogue } from '../../src/modules/blocks/block-sync.js';

/** The id of a block of the built-in catalogue (src/modules/blocks/catalogue.json), by name. */
export function catalogueBlockId(name: string): string {
  const block = builtInCatalogue().blocks.find((entry) => entry.name === name);
  if (!block) throw new Error(`No block ${name} in the built-in catalogue`);
  return block.id;
}

export const ALL_USER_PERMISSIONS: ApiKeyPermission[] = ['READ_GRAPHS', 'WRITE_GRAPHS', 'EXECUTE_GRAPHS', 'READ_SESSIONS', 'WRITE_SESSIONS'];

let sequence = 0;

/** A user with one API key; returns the key in clear, as the API would show it once. */
export async function createUser(
  db: Database,
  options: { email?: string; name?: string; admin?: boolean; permissions?: ApiKeyPermission[]; revoked?: boolean } = {},
) {
  sequence += 1;
  const permissions = options.permissions ?? (options.admin ? ['ADMIN', ...ALL_USER_PERMISSIONS] : ALL_USER_PERMISSIONS);
  const secret = generateApiKeySecret();
  const user = await db.prisma.user.create({
    data: {
      email: options.email ?? `user${sequence}-${randomUUID().slice(0, 8)}@example.com`,
      name: options.name ?? `User ${sequence}`,
      apiKeys: {
        create: {
          name: 'test key',
          prefix: secret.prefix,
          secretHash: secret.secretHash,
          permissions,
          status: options.revoked ? 'REVOKED' : 'ACTIVE',
          revokedAt: options.revoked ? new Date() : null,
        },
      },
    },
  });
  return { user, apiKey: secret.key };
}

/** One more API key for an existing user; returns its row id and the key in clear. */
export async function createApiKey(
  db: Database,
  userId: string,
  permissions: ApiKeyPermission[],
  options: { name?: string; createdAt?: Date } = {},
) {
  const secret = generateApiKeySecret();
  const row = await db.prisma.apiKey.create({
    data: {
      userId,
      name: options.name ?? 'extra key',
      prefix: secret.prefix,
      secretHash: secret.secretHash,
      permissions,
      ...(options.createdAt ? { createdAt: options.createdAt } : {}),
    },
  });
  return { id: row.id, key: secret.key };
}

export type GraphFixture = {
  name?: string;
  description?: string;
  version?: number;
  isActive?: boolean;
  createdAt?: Date;
  nodes?: Array<{ key: string; blockId?: string; nodeType?: NodeType; label?: string }>;
  links?: Array<{ source: string; sink: string; sourceName?: string; sinkName?: string; isStatic?: boolean }>;
};

/** A graph version with nodes (referred to by key) and links between them. */
export async function createGraph(db: Database, ownerId: string, fixture: GraphFixture = {}, id: string = randomUUID()) {
  const nodes = fixture.nodes ?? [{ key: 'in', nodeType: 'INPUT' }, { key: 'llm' }, { key: 'out', nodeType: 'OUTPUT' }];
  const links = fixture.links ?? (fixture.nodes ? [] : [{ source: 'in', sink: 'llm' }, { source: 'llm', sink: 'out' }]);
  const version = fixture.version ?? 1;
  const nodeIds = new Map(nodes.map((node) => [node.key, randomUUID()]));
  return db.prisma.$transaction(async (tx) => {
    const graph = await tx.graph.create({
      data: {
        id,
        version,
        name: fixture.name ?? `Graph ${sequence++}`,
        description: fixture.description ?? null,
        isActive: fixture.isActive ?? true,
        userId: ownerId,
        ...(fixture.createdAt ? { createdAt: fixture.createdAt } : {}),
      },
    });
    await tx.node.createMany({
      data: nodes.map((node) => ({
        id: nodeIds.get(node.key)!,
        graphId: id,
        graphVersion: version,
        blockId: node.blockId ?? `block-${node.key}`,
        label: node.label ?? node.key,
        nodeType: node.nodeType ?? 'STANDARD',
      })),
    });
    await tx.link.createMany({
      data: links.map((link) => ({
        graphId: id,
        graphVersion: version,
        sourceId: nodeIds.get(link.source)!,
        sinkId: nodeIds.get(link.sink)!,
        sourceName: link.sourceName ?? 'output',
        sinkName: link.sinkName ?? 'input',
        isStatic: link.isStatic ?? false,
      })),
    });
    return { graph, nodeIds };
  });
}

/** The columns a run fixture may choose; the rest take their defaults. */
export type RunRow = {
  graphId: string;
  version: number;
  userId: string;
  status?: ExecutionStatus;
  inputs?: Prisma.InputJsonValue;
  cost?: number;
  parentId?: string;
  createdAt?: Date;
  startedAt?: Date | null;
  isDeleted?: boolean;
};

/** A node execution's chosen columns. */
export type NodeExecutionRow = { status?: ExecutionStatus; inputs?: Prisma.InputJsonValue; cost?: number };

/** A run with its node executions: each one's columns by node (nodes in id order; default INCOMPLETE), or `false` for none. */
export type RunFixture = RunRow & { nodeExecutions?: false | ((node: Node, index: number) => NodeExecutionRow) };

function runData(row: RunRow): Prisma.GraphExecutionCreateManyInput {
  return {
    graphId: row.graphId,
    graphVersion: row.version,
    userId: row.userId,
    status: row.status ?? 'QUEUED',
    isDeleted: row.isDeleted ?? false,
    ...(row.inputs !== undefined ? { inputs: row.inputs } : {}),
    ...(row.cost !== undefined ? { cost: row.cost } : {}),
    ...(row.parentId !== undefined ? { parentId: row.parentId } : {}),
    ...(row.createdAt ? { createdAt: row.createdAt } : {}),
    ...(row.startedAt !== undefined ? { startedAt: row.startedAt } : {}),
  };
}

/** A run of one graph version with one node execution per node, written directly (not through the API). */
export async function createRun(db: Database, options: RunFixture) {
  const run = await db.prisma.graphExecution.create({ data: runData(options) });
  const perNode = options.nodeExecutions;
  if (perNode === false) return { runId: run.id, nodeExecutionIds: [] as string[] };
  const nodes = await db.prisma.node.findMany({ where: { graphId: options.graphId, graphVersion: options.version }, orderBy: { id: 'asc' } });
  // One statement for all of them; ids returned in node order.
  const written = await db.prisma.nodeExecution.createManyAndReturn({
    data: nodes.map((node, index) => {
      const { status = 'INCOMPLETE', inputs, cost } = perNode?.(node, index) ?? {};
      return { graphExecutionId: run.id, nodeId: node.id, status, ...(inputs !== undefined ? { inputs } : {}), ...(cost !== undefined ? { cost } : {}) };
    }),
    select: { id: true, nodeId: true },
  });
  const byNode = new Map(written.map((row) => [row.nodeId, row.id]));
  return { runId: run.id, nodeExecutionIds: nodes.map((node) => byNode.get(node.id)!) };
}

/** Many runs in one statement, without node executions (bulk fixtures); returns how many were written. */
export async function createRuns(db: Database, rows: RunRow[]) {
  return (await db.prisma.graphExecution.createMany({ data: rows.map(runData) })).count;
}

/** A session row written directly (fixtures with chosen timestamps or states the API would refuse). */
export async function createSession(
  db: Database,
  data: {
    userId: string;
    appName?: string;
    agentId?: string | null;
    status?: SessionStatus;
    metadata?: Prisma.InputJsonObject;
    state?: Prisma.InputJsonObject;
    teamSessionId?: string | null;
    createdAt?: Date;
    updatedAt?: Date;
  },
) {
  return db.prisma.session.create({
    data: {
      userId: data.userId,
      appName: data.appName ?? 'app',
      agentId: data.agentId ?? null,
      status: data.status ?? 'ACTIVE',
      metadata: data.metadata ?? {},
      state: data.state ?? {},
      teamSessionId: data.teamSessionId ?? null,
      ...(data.createdAt ? { createdAt: data.createdAt } : {}),
      ...(data.updatedAt ? { updatedAt: data.updatedAt } : {}),
    },
  });
}

/** A session event's chosen columns (its session and sequence are given by addSessionEvents). */
export type SessionEventRow = Omit<Prisma.SessionEventCreateManyInput, 'id' | 'sessionId' | 'sequence'>;

/** Events numbered on from the session's `lastSequence`, which moves past them (and `updatedAt` too, unless `keepUpdatedAt`). */
export async function addSessionEvents(db: Database, sessionId: string, events: SessionEventRow[], options: { keepUpdatedAt?: boolean } = {}) {
  await db.prisma.$transaction(async (tx) => {
    const { lastSequence, updatedAt } = await tx.session.findUniqueOrThrow({ where: { id: sessionId }, select: { lastSequence: true, updatedAt: true } });
    await tx.sessionEvent.createMany({ data: events.map((event, i) => ({ ...event, sessionId, sequence: lastSequence + i + 1 })) });
    await tx.session.update({
      where: { id: sessionId },
      data: { lastSequence: lastSequence + events.length, ...(options.keepUpdatedAt ? { updatedAt } : {}) },
    });
  });
}
