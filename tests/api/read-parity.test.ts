/**
 * Read parity, generated from the schema: for every object type backed by a model and every scalar field of it, the
 * value answered through every read path equals the value in the database row. Paths: by id at the root, in the
 * root lists, and nested under each parent field that returns the type (reached by the shortest path from Query);
 * each with all scalar fields and again without the JSON ones (pages then read trimmed rows); each sent four times
 * (graphql-js for the first two, graphql-jit compiled from the third, then answered as a hot operation).
 *
 * A scalar field of such a type that is neither a column of the model's declaration nor a known computed field fails
 * the test: a field added to the SDL without a read path cannot pass. Every nullable column of the fixture rows is
 * filled with a value first, so a column a path leaves out would answer null where the row holds a value.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildClientSchema,
  getIntrospectionQuery,
  getNamedType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
  type IntrospectionQuery,
} from 'graphql';
import type { ModelTable } from '../../src/db/columns.js';
import { createServer } from '../../src/server/app.js';
import { resolvers } from '../../src/modules/resolvers.js';
import { buildExecutableSchema } from '../../src/schema-files.js';
import { API_KEY_TABLE } from '../../src/modules/auth/columns.js';
import { GRAPH_EXECUTION_TABLE, NODE_EXECUTION_TABLE } from '../../src/modules/executions/columns.js';
import { GRAPH_TABLE, LINK_TABLE, NODE_TABLE } from '../../src/modules/graphs/columns.js';
import { SESSION_EVENT_TABLE, SESSION_TABLE } from '../../src/modules/sessions/columns.js';
import { USER_TABLE } from '../../src/modules/users/columns.js';
import { requiresAdmin } from '../helpers/authz.js';
import { addSessionEvents, createGraph, createRun, createSession, createUser } from '../helpers/factories.js';
import { testDatabaseKinds } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyTable = ModelTable<any>;

/** GraphQL object types backed by a model, and the fields that identify one of their rows. */
const TABLES: Record<string, { table: AnyTable; key: string[] }> = {
  User: { table: USER_TABLE, key: ['id'] },
  ApiKey: { table: API_KEY_TABLE, key: ['id'] },
  Graph: { table: GRAPH_TABLE, key: ['id', 'version'] },
  Node: { table: NODE_TABLE, key: ['id'] },
  Link: { table: LINK_TABLE, key: ['id'] },
  GraphExecution: { table: GRAPH_EXECUTION_TABLE, key: ['id'] },
  NodeExecution: { table: NODE_EXECUTION_TABLE, key: ['id'] },
  Session: { table: SESSION_TABLE, key: ['id'] },
  SessionEvent: { table: SESSION_EVENT_TABLE, key: ['id'] },
};

/** Scalar fields computed from the row (not a column): their own tests cover them. */
const COMPUTED: Record<string, ReadonlySet<string>> = {
  GraphExecution: new Set(['durationMs']),
  NodeExecution: new Set(['durationMs']),
  Session: new Set(['eventCount']),
  User: new Set(['permissions']),
  ApiKey: new Set([]),
  Graph: new Set([]),
  Node: new Set([]),
  Link: new Set([]),
  SessionEvent: new Set([]),
};

const FILLED_TIME = new Date('2026-01-02T03:04:05.678Z');

/** Fills every NULL of the declared tables' nullable columns that take a plain value (no keys: they reference rows). */
async function fillNullColumns(server: TestServer): Promise<void> {
  for (const { table } of Object.values(TABLES)) {
    const columns = await server.db.prisma.$queryRawUnsafe<Array<{ column_name: string; data_type: string }>>(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1 AND is_nullable = 'YES'`,
      table.table,
    );
    for (const { column_name: column, data_type: type } of columns) {
      const value = { text: `'filled ${column} ' || id::text`, integer: '7', boolean: 'true', jsonb: `'{"filled": "${column}"}'`, 'timestamp with time zone': `'${FILLED_TIME.toISOString()}'` }[type];
      if (value) await server.db.prisma.$executeRawUnsafe(`UPDATE ${table.table} SET ${column} = ${value} WHERE ${column} IS NULL`);
    }
  }
}

/** Every row of a declared table, in the model's shape (read raw, keyed by the declaration's columns). */
async function rowsOf(server: TestServer, table: AnyTable): Promise<Array<Record<string, unknown>>> {
  const raw = await server.db.prisma.$queryRawUnsafe<Array<Record<string, unknown>>>(`SELECT * FROM ${table.table}`);
  return raw.map((row) => Object.fromEntries(table.columns.map((column) => [column.key, row[column.column]])));
}

/** A database value as GraphQL answers it (an enum array read raw by PGlite comes as its text literal). */
function asAnswered(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string' && /^\{[A-Z_,]*\}$/.test(value)) return value.slice(1, -1).split(',').filter(Boolean);
  if (typeof value === 'bigint') return Number(value);
  return value;
}

type Path = Array<{ field: GraphQLField<unknown, unknown>; parent: GraphQLObjectType }>;

const unwrap = (field: GraphQLField<unknown, unknown>) => getNamedType(field.type);
/** The object type a field leads to: its type, or a connection's node type. */
function rowTypeOf(field: GraphQLField<unknown, unknown>, schema: GraphQLSchema): GraphQLObjectType | null {
  const type = unwrap(field);
  if (!isObjectType(type)) return null;
  const nodes = type.name.endsWith('Connection') ? type.getFields().nodes : undefined;
  if (nodes) return getNamedType(nodes.type) as GraphQLObjectType;
  return schema.getType(type.name) as GraphQLObjectType;
}

describe.each(testDatabaseKinds)('read parity of every scalar field on %s', (kind) => {
  let server: TestServer;
  let app: { url: string; stop(): Promise<void> };
  let schema: GraphQLSchema;
  const ids: Record<string, string> = {};
  let adminKey: string;
  // The introspected schema has no directives: the rules are read from the server's own.
  const serverSchema = buildExecutableSchema(resolvers);

  beforeAll(async () => {
    server = await startTestServer({ database: kind });
    const db = server.db;
    adminKey = (await createUser(db, { admin: true })).apiKey;
    const { graph } = await createGraph(db, server.userId, { name: 'parity', description: null as unknown as string });
    const parent = await createRun(db, { graphId: graph.id, version: graph.version, userId: server.userId, status: 'COMPLETED', inputs: { a: 1 }, nodeExecutions: false });
    const { runId } = await createRun(db, {
      graphId: graph.id,
      version: graph.version,
      userId: server.userId,
      status: 'FAILED',
      inputs: { q: 'x' },
      cost: 12,
      parentId: parent.runId,
      nodeExecutions: (node) => ({ status: 'COMPLETED', inputs: { n: node.blockId }, cost: 4 }),
    });
    const team = await createSession(db, { appName: 'parity', userId: server.userId, state: { s: 1 } });
    const session = await createSession(db, { appName: 'parity', userId: server.userId, teamSessionId: team.id, metadata: { m: 1 }, state: { k: 'v' } });
    await addSessionEvents(db, session.id, [1, 2, 3].map((sequence) => ({ author: 'agent', content: { text: `e${sequence}` }, actions: { stateDelta: {} } })));
    await fillNullColumns(server);
    Object.assign(ids, { Graph: graph.id, GraphExecution: runId, NodeExecution: (await db.prisma.nodeExecution.findFirstOrThrow({ where: { graphExecutionId: runId } })).id, Session: session.id });

    // graphql-js for a document's first two executions, compiled from the third (the production default).
    const created = await createServer({ db, log: pino({ level: 'silent' }), apiKeyCacheMs: 0, compileAfterUses: 2 });
    const { url } = await created.listen(0, '127.0.0.1');
    app = { url, stop: () => created.stop() };
    const introspection = await server.graphql<IntrospectionQuery>(getIntrospectionQuery());
    schema = buildClientSchema(introspection.data!);
  });
  afterAll(async () => {
    await app?.stop();
    await server?.close();
  });

  it('every declared type is a whole model, and every scalar field of it is a column or a known computed field', async () => {
    for (const [typeName, { table }] of Object.entries(TABLES)) {
      const dbColumns = await server.db.prisma.$queryRawUnsafe<Array<{ column_name: string }>>(`SELECT column_name FROM information_schema.columns WHERE table_name = $1`, table.table);
      expect(table.columns.map((c) => c.column).sort(), `${typeName}: the declaration names every column of ${table.table}`).toEqual(dbColumns.map((c) => c.column_name).sort());
      const type = schema.getType(typeName) as GraphQLObjectType | undefined;
      if (!type) continue; // a model the API does not expose
      for (const field of Object.values(type.getFields())) {
        if (!isLeafType(unwrap(field)) || field.args.some((a) => isNonNullType(a.type))) continue;
        expect(table.keys.has(field.name) || COMPUTED[typeName]!.has(field.name), `${typeName}.${field.name} has no column in the declaration and is not a known computed field`).toBe(true);
      }
    }
  });

  /** The shortest path of fields from Query to each object type (breadth first; fields with required arguments only at the root, with an id). */
  function shortestPaths(): Map<string, Path> {
    const query = schema.getQueryType()!;
    const paths = new Map<string, Path>();
    const queue: Array<{ type: GraphQLObjectType; path: Path }> = [];
    const visit = (type: GraphQLObjectType, path: Path) => {
      if (paths.has(type.name) || path.length > 6) return;
      paths.set(type.name, path);
      queue.push({ type, path });
    };
    for (const field of Object.values(query.getFields())) {
      const row = rowTypeOf(field, schema);
      if (!row || !argumentsFor(field, true)) continue;
      visit(row, [{ field, parent: query }]);
    }
    while (queue.length) {
      const { type, path } = queue.shift()!;
      for (const field of Object.values(type.getFields())) {
        const row = rowTypeOf(field, schema);
        if (row && argumentsFor(field, false) !== null) visit(row, [...path, { field, parent: type }]);
      }
    }
    return paths;
  }

  /** The arguments a path step passes (required ids from the fixtures at the root), or null when it cannot. */
  function argumentsFor(field: GraphQLField<unknown, unknown>, root: boolean): string | null {
    const required = field.args.filter((a) => isNonNullType(a.type) && a.defaultValue === undefined);
    if (required.length === 0) return '';
    if (!root || required.length !== 1 || required[0]!.name !== 'id') return null;
    const id = ids[getNamedType(field.type).name];
    return id ? `(id: "${id}")` : null;
  }

  /** Every path to a model type: by the root fields, and under every parent field that returns it. */
  function pathsTo(typeName: string): Path[] {
    const shortest = shortestPaths();
    const found: Path[] = [];
    for (const [parentName, parentPath] of [['Query', [] as Path] as const, ...shortest]) {
      const parent = schema.getType(parentName) as GraphQLObjectType;
      for (const field of Object.values(parent.getFields())) {
        if (rowTypeOf(field, schema)?.name !== typeName) continue;
        if (argumentsFor(field, parentName === 'Query') === null) continue;
        found.push([...parentPath, { field, parent }]);
      }
    }
    return found;
  }

  function documentFor(path: Path, leaves: string[]): string {
    let inner = leaves.join(' ');
    for (let i = path.length - 1; i >= 0; i--) {
      const { field, parent } = path[i]!;
      const type = unwrap(field);
      const body = isObjectType(type) && type.name.endsWith('Connection') ? `nodes { ${inner} }` : inner;
      const idOf = (getNamedType(field.type) as GraphQLObjectType).getFields?.().id ? ' id' : '';
      inner = `${field.name}${argumentsFor(field, parent.name === 'Query') ?? ''} { ${body}${i === path.length - 1 ? '' : idOf} }`;
    }
    return `query Parity { ${inner} }`;
  }

  /** The objects at the end of a path in an answer. */
  function objectsAt(data: unknown, path: Path): Array<Record<string, unknown>> {
    let level: unknown[] = [data];
    for (const { field } of path) {
      const type = unwrap(field);
      level = level.flatMap((value) => {
        const next = (value as Record<string, unknown> | null)?.[field.name];
        if (next == null) return [];
        const items = isObjectType(type) && type.name.endsWith('Connection') ? (next as { nodes: unknown[] }).nodes : next;
        return isListType(isNonNullType(field.type) ? field.type.ofType : field.type) || Array.isArray(items) ? (items as unknown[]) : [items];
      });
    }
    return level as Array<Record<string, unknown>>;
  }

  for (const typeName of Object.keys(TABLES)) {
    it(`${typeName}: every scalar field equals its column on every path, with and without JSON fields, on graphql-js, compiled and hot`, async () => {
      const type = schema.getType(typeName) as GraphQLObjectType | undefined;
      if (!type) return;
      const { table, key } = TABLES[typeName]!;
      const rows = await rowsOf(server, table);
      const rowKey = (o: Record<string, unknown>) => key.map((k) => String(o[k])).join('/');
      const byKey = new Map(rows.map((row) => [rowKey(row), row]));
      const scalar = Object.values(type.getFields()).filter((f) => isLeafType(unwrap(f)) && !f.args.some((a) => isNonNullType(a.type)) && table.keys.has(f.name));
      const json = new Set(table.columns.filter((c) => c.kind === 'json').map((c) => c.key));
      const variants = [scalar.map((f) => f.name), scalar.map((f) => f.name).filter((f) => !json.has(f))];
      const paths = pathsTo(typeName);
      expect(paths.length, `${typeName} is reachable`).toBeGreaterThan(0);
      let compared = 0;
      for (const path of paths) {
        for (const leaves of variants) {
          const query = documentFor(path, [...new Set([...key, ...leaves])]);
          for (let send = 1; send <= 4; send++) {
            // A path through a list only an admin may read (every user) is read with an admin's key.
            const apiKey = path.some((step) => requiresAdmin((serverSchema.getType(step.parent.name) as GraphQLObjectType).getFields()[step.field.name]!)) ? adminKey : server.apiKey;
            const res = await fetch(`${app.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` }, body: JSON.stringify({ query }) });
            const body = (await res.json()) as { data?: unknown; errors?: unknown[] };
            expect(body.errors, `${query} (send ${send})`).toBeUndefined();
            for (const object of objectsAt(body.data, path)) {
              const row = byKey.get(rowKey(object));
              expect(row, `${typeName} ${rowKey(object)} is a row`).toBeDefined();
              for (const field of leaves) {
                expect(object[field], `${typeName}.${field} through ${query} (send ${send})`).toEqual(asAnswered(row![field]));
              }
              compared++;
            }
          }
        }
      }
      expect(compared, `${typeName}: objects compared`).toBeGreaterThan(0);
    });
  }
});
