import { randomUUID } from 'node:crypto';
import type { Database } from '../../src/db/database.js';
import type { ApiKeyPermission, NodeType } from '../../src/generated/prisma/client.js';
import { generateApiKeySecret } from '../../src/modules/auth/api-key-secret.js';

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
