/**
 * Authorization declared on the schema (src/modules/auth/field-auth.ts), walked: every field has a rule, a field
 * without one stops the server, and every entry point refuses a key that lacks one of the permissions it declares —
 * FORBIDDEN, before anything runs, with nothing changed. Every mutation is also refused, before it writes, when its
 * answer selects something its key may not read. The matrices next to this file check what each answer holds.
 */
import {
  buildSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLObjectType,
} from 'graphql';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertEveryFieldAuthorized, authRules, unauthorizedFields } from '../../../src/modules/auth/field-auth.js';
import { resolvers } from '../../../src/modules/resolvers.js';
import { buildExecutableSchema } from '../../../src/schema-files.js';
import { ALL_USER_PERMISSIONS, createUser } from '../../helpers/factories.js';
import { snapshot } from '../../helpers/authz.js';
import { liveClient } from '../../helpers/live.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const schema = buildExecutableSchema(resolvers);
const rules = authRules(schema);

/** A value of the input type that passes GraphQL's coercion (the permission check comes before any resolver). */
function sampleValue(type: GraphQLInputType): unknown {
  if (isNonNullType(type)) return sampleValue(type.ofType);
  if (isListType(type)) return [sampleValue(type.ofType)];
  if (isEnumType(type)) return type.getValues()[0]!.value;
  if (isInputObjectType(type)) {
    const value: Record<string, unknown> = {};
    for (const field of Object.values(type.getFields())) if (isNonNullType(field.type) && field.defaultValue === undefined) value[field.name] = sampleValue(field.type);
    return value;
  }
  if (isScalarType(type)) {
    const samples: Record<string, unknown> = {
      ID: randomUUID(),
      UUID: randomUUID(),
      String: 'x',
      Int: 1,
      Float: 1,
      Boolean: true,
      DateTime: '2026-01-01T00:00:00Z',
      JSON: {},
      JSONObject: {},
      NonNegativeInt: 1,
      PositiveInt: 1,
      EmailAddress: 'someone@example.com',
    };
    if (type.name in samples) return samples[type.name];
  }
  throw new Error(`no sample value for ${String(type)}`);
}

/** `operation($a: T!) { field(a: $a) { <selection> } }` with every required argument, and its variables. */
function operationFor(operation: 'query' | 'mutation' | 'subscription', field: GraphQLField<unknown, unknown>, selection: string) {
  const required = field.args.filter((a) => isNonNullType(a.type) && a.defaultValue === undefined);
  const declared = required.map((a) => `$${a.name}: ${String(a.type)}`).join(', ');
  const passed = required.map((a) => `${a.name}: $${a.name}`).join(', ');
  const variables = Object.fromEntries(required.map((a) => [a.name, sampleValue(a.type)]));
  const body = isObjectType(getNamedType(field.type)) ? ` { ${selection} }` : '';
  return { query: `${operation}${declared ? `(${declared})` : ''} { ${field.name}${passed ? `(${passed})` : ''}${body} }`, variables };
}

const entryPoints = (type: GraphQLObjectType | null | undefined, operation: 'query' | 'mutation' | 'subscription') =>
  Object.values(type?.getFields() ?? {}).map((field) => ({ operation, field, requires: [...(rules.ofField(type!.name, field.name) ?? [])] }));

const allEntryPoints = () => [
  ...entryPoints(schema.getQueryType(), 'query'),
  ...entryPoints(schema.getMutationType(), 'mutation'),
  ...entryPoints(schema.getSubscriptionType(), 'subscription'),
];

describe('authorization declared on the schema', () => {
  it('every field of every object type has a rule, on itself or on its type', () => {
    expect(unauthorizedFields(schema)).toEqual([]);
  });

  it('a field without a rule stops the server (deny by default)', () => {
    const sdl = `directive @auth(requires: [String!]!) on OBJECT | FIELD_DEFINITION
      type Query { ok: Int @auth(requires: []) forgotten: Int }
      type Thing @auth(requires: []) { id: ID }`;
    expect(() => assertEveryFieldAuthorized(buildSchema(sdl))).toThrow(/Query\.forgotten/);
  });

  /** The caller's own identity, and the block catalogue: the server's data, the same for every key (README, Blocks). */
  const READABLE_BY_ANY_KEY = new Set(['viewer', 'blocks', 'block']);

  it('every entry point states its own rule; reading any data needs a read permission', () => {
    for (const { operation, field, requires } of allEntryPoints()) {
      const own = field.astNode?.directives?.some((d) => d.name.value === 'auth');
      expect(own, `${operation} ${field.name} declares @auth itself`).toBe(true);
      if (operation !== 'mutation' && !READABLE_BY_ANY_KEY.has(field.name)) expect(requires.length, `${operation} ${field.name} needs a permission`).toBeGreaterThan(0);
    }
  });
});

describe('every entry point refuses a key without a permission it declares (pglite)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ database: 'pglite' });
  });
  afterAll(async () => {
    await server?.close();
  });

  const cases = allEntryPoints().flatMap((entry) => entry.requires.map((missing) => ({ ...entry, missing })));

  it.each(cases.filter((c) => c.operation === 'subscription').map((c) => [`subscription ${c.field.name} without ${c.missing}`, c] as const))(
    '%s (graphql-ws): FORBIDDEN before it listens',
    async (_name, c) => {
      const { apiKey } = await createUser(server.db, { permissions: ALL_USER_PERMISSIONS.filter((p) => p !== c.missing) });
      const client = liveClient(server.url, apiKey);
      try {
        const { query, variables } = operationFor('subscription', c.field, '__typename');
        const received = client.subscribe(query, variables);
        await received.ended();
        expect(received.results.flatMap((r) => r.errors ?? []).map((e) => e.extensions?.code), query).toEqual(['FORBIDDEN']);
        expect(server.liveStats().subscriptions).toBe(0);
      } finally {
        await client.dispose();
      }
    },
  );

  it.each(cases.filter((c) => c.operation !== 'subscription').map((c) => [`${c.operation} ${c.field.name} without ${c.missing}`, c] as const))('%s: FORBIDDEN, nothing changed', async (_name, c) => {
    const { apiKey } = await createUser(server.db, { permissions: ALL_USER_PERMISSIONS.filter((p) => p !== c.missing) });
    const before = await snapshot(server.db);
    const { query, variables } = operationFor(c.operation as 'query' | 'mutation', c.field, '__typename');
    const res = await server.graphql(query, variables, apiKey);
    expect(res.errors?.map((e) => e.extensions?.code), query).toEqual(['FORBIDDEN']);
    expect(res.errors?.[0]?.message).toContain(c.missing);
    expect(await snapshot(server.db)).toEqual(before);
  });

  /** The payload's fields one level down, with `id` of what it returns: what a key with the mutation's permission alone may not ask. */
  const mutations = entryPoints(schema.getMutationType(), 'mutation').filter((m) => m.requires.length > 0);
  it.each(mutations.map((m) => [m.field.name, m] as const))('mutation %s: an answer the key may not read is refused before the write', async (_name, m) => {
    const payload = getNamedType(m.field.type) as GraphQLObjectType;
    const needsMore = Object.values(payload.getFields()).flatMap((payloadField) => {
      const written = getNamedType(payloadField.type);
      if (!isObjectType(written)) return [];
      return Object.values(written.getFields())
        .filter((f) => !f.args.some((a) => isNonNullType(a.type)) && [...(rules.ofField(written.name, f.name) ?? [])].some((p) => !m.requires.includes(p)))
        .map((f) => `${payloadField.name} { ${f.name}${isObjectType(getNamedType(f.type)) ? ' { __typename }' : ''} }`);
    });
    if (needsMore.length === 0) return; // nothing in this answer needs more than the mutation's own permission
    const { apiKey } = await createUser(server.db, { permissions: m.requires as typeof ALL_USER_PERMISSIONS });
    const before = await snapshot(server.db);
    for (const selection of needsMore) {
      const { query, variables } = operationFor('mutation', m.field, selection);
      const res = await server.graphql(query, variables, apiKey);
      expect(res.errors?.map((e) => e.extensions?.code), query).toEqual(['FORBIDDEN']);
    }
    expect(await snapshot(server.db)).toEqual(before);
  });
});
