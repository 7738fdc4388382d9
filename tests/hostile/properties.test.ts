import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseKinds } from '../helpers/databases.js';
import { catalogueBlockId } from '../helpers/factories.js';
import type { TestServer } from '../helpers/server.js';
import { snapshotDatabase } from '../helpers/snapshot.js';
import { CaseCounter, codesOf, errorsOf, type HostileClient } from './harness.js';
import { openHostileServer, type HostileWorld } from './world.js';

/**
 * Property-based hostile input: random graph structures (cycles, dangling links, duplicates) against an
 * independent validity oracle, random session event batches against a model of sequences, idempotency and state,
 * and random cursors. PGlite gets fewer runs than PostgreSQL to keep the suite's time reasonable.
 */

const counter = new CaseCounter('properties');
afterAll(() => counter.report());

const runs = (kind: string, postgres: number, pglite: number) => ({ numRuns: kind === 'postgres' ? postgres : pglite, endOnFailure: true });

/** The data of a list query, by root field. */
type Lists = Record<string, { nodes: Array<{ owner: { id: string }; user: { id: string } }> }>;

// ---- graphs ----

type NodeIn = { key: string; blockId: string; nodeType?: string };
type LinkIn = { source: string; sink: string; sourceName: string; sinkName: string; isStatic?: boolean };
type GraphIn = { name: string; nodes: NodeIn[]; links: LinkIn[] };

/** A block of the catalogue whose ports hold anything: the structure is what these graphs vary, not the ports. */
const BLOCK = catalogueBlockId('StoreValueBlock');
const KEYS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'A', 'é', '🙂'];
/**
 * Mostly well-formed graphs (distinct keys, forward links) with a sprinkling of every way to be invalid: duplicate,
 * blank and dangling keys, duplicate links, backward non-static links closing cycles, self-loops, blank names.
 */
const graphInput: fc.Arbitrary<GraphIn> = fc
  .record({
    name: fc.oneof({ weight: 20, arbitrary: fc.constant('generated') }, { weight: 1, arbitrary: fc.constantFrom('', '  ', 'x'.repeat(201)) }),
    keys: fc.uniqueArray(fc.constantFrom(...KEYS), { minLength: 1, maxLength: 8 }),
    extraKey: fc.oneof({ weight: 12, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom(' ', '', 'DUP') }),
    blockId: fc.oneof({ weight: 25, arbitrary: fc.constant(BLOCK) }, { weight: 1, arbitrary: fc.constant(' ') }),
    links: fc.array(
      fc.record({
        from: fc.nat(20),
        to: fc.nat(20),
        backward: fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
        dangling: fc.oneof({ weight: 25, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
        sourceName: fc.constant('output'),
        sinkName: fc.constantFrom('input', 'data'),
        isStatic: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      }),
      { maxLength: 10 },
    ),
  })
  .map(({ name, keys, extraKey, blockId, links }) => {
    const nodes: NodeIn[] = keys.map((key, i) => ({ key, blockId: i === 0 ? blockId : BLOCK }));
    if (extraKey !== null) nodes.push({ key: extraKey === 'DUP' ? keys[0]! : extraKey, blockId: BLOCK });
    return {
      name,
      nodes,
      links: links.map((l) => {
        const [i, j] = [l.from % keys.length, l.to % keys.length].sort((x, y) => x - y) as [number, number];
        // Forward links (i ≤ j; i = j is a self-loop) keep the graph acyclic unless one goes backward.
        const [source, sink] = l.backward ? [keys[j]!, keys[i]!] : [keys[i]!, keys[j]!];
        return { source: l.dangling ? 'zz' : source, sink, sourceName: l.sourceName, sinkName: l.sinkName, isStatic: l.isStatic };
      }),
    };
  });

/** Independent oracle: what the API documents as a valid graph (DFS colouring for cycles, not Kahn's algorithm). */
function graphIsValid(g: GraphIn): boolean {
  if (g.name.trim() === '' || g.name.length > 200) return false;
  if (g.nodes.length < 1 || g.nodes.length > 500) return false;
  const keys = new Set<string>();
  for (const node of g.nodes) {
    if (node.key.trim() === '' || node.blockId.trim() === '' || keys.has(node.key)) return false;
    keys.add(node.key);
  }
  const identities = new Set<string>();
  for (const link of g.links) {
    if (!keys.has(link.source) || !keys.has(link.sink)) return false;
    const identity = `${link.source}\u0001${link.sourceName}\u0001${link.sink}\u0001${link.sinkName}`;
    if (identities.has(identity)) return false;
    identities.add(identity);
  }
  const next = new Map<string, string[]>([...keys].map((k) => [k, []]));
  for (const link of g.links) if (!link.isStatic) next.get(link.source)!.push(link.sink);
  const colour = new Map<string, 0 | 1 | 2>();
  const visit = (key: string): boolean => {
    colour.set(key, 1);
    for (const to of next.get(key)!) {
      if (colour.get(to) === 1) return false;
      if (!colour.get(to) && !visit(to)) return false;
    }
    colour.set(key, 2);
    return true;
  };
  return [...keys].every((key) => colour.get(key) === 2 || visit(key));
}

// ---- session events ----

type EventIn = { author: string; clientEventId?: string; actions?: unknown; content?: unknown };
const eventInput: fc.Arbitrary<EventIn> = fc.record(
  {
    author: fc.oneof({ weight: 12, arbitrary: fc.constantFrom('user', 'agent') }, { weight: 1, arbitrary: fc.constantFrom('', ' ') }),
    clientEventId: fc.constantFrom('c1', 'c2', 'c3', 'c4', 'c5', 'c6'),
    actions: fc.oneof(
      { weight: 6, arbitrary: fc.record({ stateDelta: fc.dictionary(fc.constantFrom('k1', 'k2', 'k3'), fc.oneof(fc.integer(), fc.constant(null), fc.string({ maxLength: 3 })), { maxKeys: 2 }) }) },
      { weight: 1, arbitrary: fc.record({ stateDelta: fc.constantFrom([1] as unknown, 'x', 5) }) },
      { weight: 2, arbitrary: fc.constant({ other: true }) },
    ),
    content: fc.jsonValue({ maxDepth: 3 }),
  },
  { requiredKeys: ['author'] },
);

function batchIsValid(batch: EventIn[]): boolean {
  if (batch.length < 1 || batch.length > 500) return false;
  const ids = batch.map((e) => e.clientEventId).filter((id) => id !== undefined);
  if (new Set(ids).size !== ids.length) return false;
  return batch.every((e) => {
    const delta = (e.actions as { stateDelta?: unknown } | undefined)?.stateDelta;
    return e.author.trim() !== '' && (delta === undefined || delta === null || (typeof delta === 'object' && !Array.isArray(delta)));
  });
}

describe.each(testDatabaseKinds)('hostile properties on %s', (kind) => {
  let server: TestServer;
  let w: HostileWorld;
  let c: HostileClient;

  beforeAll(async () => {
    ({ server, world: w, client: c } = await openHostileServer(kind, counter));
  });
  afterAll(() => server?.close());

  it('createGraph accepts exactly the graphs the oracle calls valid, and stores them exactly', async () => {
    let accepted = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(graphInput, async (g) => {
        const valid = graphIsValid(g);
        const before = valid ? null : await snapshotDatabase(server.db);
        const res = await c.op('mutation($input: GraphInput!) { createGraph(input: $input) { graph { id version nodes { id blockId } links { source { id } sink { id } sourceName sinkName isStatic } } } }', { input: g });
        if (valid) {
          counter.count += 1;
          accepted += 1;
          expect(errorsOf(res.json), `valid graph refused: ${JSON.stringify(g)} → ${res.text}`).toEqual([]);
          const graph = (res.json as { data: { createGraph: { graph: { nodes: unknown[]; links: unknown[] } } } }).data.createGraph.graph;
          expect(graph.nodes).toHaveLength(g.nodes.length);
          expect(graph.links).toHaveLength(g.links.length);
        } else {
          refused += 1;
          c.expectRefusal(res, `invalid graph ${JSON.stringify(g)}`, ['BAD_USER_INPUT']);
          expect(await snapshotDatabase(server.db), `refused graph changed the database: ${JSON.stringify(g)}`).toEqual(before);
        }
      }),
      runs(kind, 120, 60),
    );
    console.log(`[hostile] graph property on ${kind}: ${accepted} accepted, ${refused} refused`);
    expect(accepted).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });

  it('updateGraph follows the same oracle and never touches the previous version when it refuses', async () => {
    await fc.assert(
      fc.asyncProperty(graphInput, async (g) => {
        const before = await server.db.prisma.graph.count({ where: { id: w.A.graphId } });
        const res = await c.op(`mutation($input: GraphInput!) { updateGraph(id: "${w.A.graphId}", input: $input) { graph { version } } }`, { input: g });
        const after = await server.db.prisma.graph.count({ where: { id: w.A.graphId } });
        if (graphIsValid(g)) {
          counter.count += 1;
          expect(errorsOf(res.json), res.text).toEqual([]);
          expect(after).toBe(before + 1);
        } else {
          c.expectRefusal(res, `invalid update ${JSON.stringify(g)}`, ['BAD_USER_INPUT']);
          expect(after).toBe(before);
        }
      }),
      runs(kind, 60, 25),
    );
  });

  it('appendSessionEvents: batches are all-or-nothing, sequences gap-free, client ids idempotent, state merged', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(eventInput, { minLength: 0, maxLength: 8 }), { minLength: 1, maxLength: 4 }), async (batches) => {
        const created = await c.op('mutation { createSession(input: { appName: "prop" }) { session { id } } }');
        const sessionId = (created.json as { data: { createSession: { session: { id: string } } } }).data.createSession.session.id;
        const stored = new Map<string, { id: string; sequence: number }>();
        let count = 0;
        const state: Record<string, unknown> = {};
        for (const batch of batches) {
          const res = await c.op(
            'mutation($id: ID!, $events: [SessionEventInput!]!) { appendSessionEvents(sessionId: $id, events: $events) { session { eventCount state } events { id sequence clientEventId } } }',
            { id: sessionId, events: batch },
          );
          if (!batchIsValid(batch)) {
            c.expectRefusal(res, `invalid batch ${JSON.stringify(batch)}`, ['BAD_USER_INPUT']);
            const row = await server.db.prisma.session.findUniqueOrThrow({ where: { id: sessionId } });
            expect(row.lastSequence).toBe(count);
            continue;
          }
          counter.count += 1;
          expect(codesOf(res.json), res.text).toEqual([]);
          const payload = (res.json as { data: { appendSessionEvents: { session: { eventCount: number; state: Record<string, unknown> }; events: Array<{ id: string; sequence: number; clientEventId: string | null }> } } }).data.appendSessionEvents;
          expect(payload.events).toHaveLength(batch.length);
          batch.forEach((event, i) => {
            const answered = payload.events[i]!;
            const earlier = event.clientEventId ? stored.get(event.clientEventId) : undefined;
            if (earlier) {
              expect(answered, `retried client id ${event.clientEventId}`).toMatchObject(earlier);
            } else {
              count += 1;
              expect(answered.sequence).toBe(count);
              if (event.clientEventId) stored.set(event.clientEventId, { id: answered.id, sequence: answered.sequence });
              const delta = (event.actions as { stateDelta?: Record<string, unknown> } | undefined)?.stateDelta;
              for (const [key, value] of Object.entries(delta ?? {})) {
                if (value === null) delete state[key];
                else state[key] = value;
              }
            }
          });
          expect(payload.session.eventCount).toBe(count);
          expect(payload.session.state).toEqual(state);
        }
        const rows = await server.db.prisma.sessionEvent.findMany({ where: { sessionId }, orderBy: { sequence: 'asc' }, select: { sequence: true } });
        expect(rows.map((r) => r.sequence)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
        expect((await server.db.prisma.session.findUniqueOrThrow({ where: { id: sessionId } })).lastSequence).toBe(count);
      }),
      runs(kind, 60, 25),
    );
  });

  it('random and mutated cursors on every list: BAD_USER_INPUT or a page of the caller’s own rows, never an error', async () => {
    const lists = {
      graphs: { query: 'query($a: String) { graphs(first: 5, after: $a) { pageInfo { endCursor } nodes { id owner { id } } } }', own: (d: Lists) => d.graphs!.nodes.every((n) => n.owner.id === w.users.A) },
      graphExecutions: { query: 'query($a: String) { graphExecutions(first: 5, after: $a) { pageInfo { endCursor } nodes { id user { id } } } }', own: (d: Lists) => d.graphExecutions!.nodes.every((n) => n.user.id === w.users.A) },
      sessions: { query: 'query($a: String) { sessions(first: 5, after: $a) { pageInfo { endCursor } nodes { id user { id } } } }', own: (d: Lists) => d.sessions!.nodes.every((n) => n.user.id === w.users.A) },
      sessionsByCreation: { query: 'query($a: String) { sessions(first: 5, after: $a, orderBy: { field: CREATED_AT, direction: ASC }) { pageInfo { endCursor } nodes { id user { id } } } }', own: (d: Lists) => d.sessions!.nodes.every((n) => n.user.id === w.users.A) },
      eventsAfter: { query: `query($a: String) { session(id: "${w.sessions.A}") { events(first: 2, after: $a) { pageInfo { endCursor } nodes { id } } } }`, own: () => true },
      eventsBefore: { query: `query($a: String) { session(id: "${w.sessions.A}") { events(last: 2, before: $a) { pageInfo { endCursor: startCursor } nodes { id } } } }`, own: () => true },
      apiKeys: { query: 'query($a: String) { viewer { apiKeys(first: 5, after: $a) { pageInfo { endCursor } nodes { id } } } }', own: () => true },
      versions: { query: `query($a: String) { graph(id: "${w.A.graphId}") { versions(first: 1, after: $a) { pageInfo { endCursor } nodes { id } } } }`, own: () => true },
      nodeExecutions: { query: `query($a: String) { graphExecution(id: "${w.A.runId}") { nodeExecutions(first: 1, after: $a) { pageInfo { endCursor } nodes { id } } } }`, own: () => true },
    } as const;
    const real: Record<string, unknown[]> = {};
    for (const [name, list] of Object.entries(lists)) {
      const res = await c.op(list.query, { a: null });
      const cursor = JSON.stringify(res.json).match(/"endCursor":"([^"]+)"/)?.[1];
      real[name] = cursor ? (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[]) : ['none'];
    }
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const value = fc.oneof(
      fc.integer(),
      fc.constantFrom(2 ** 31, -(2 ** 31) - 1, 1e20, -1, 0.5, NaN, '0000-01-01T00:00:00Z', '+275760-09-13T00:00:00.000Z', '2026-02-30', '00000000-0000-0000-0000-000000000000', "' OR 1=1 --", '\u0000', '\ud800', 'x'.repeat(2000), null, true, [], {}),
      fc.string({ maxLength: 40 }),
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      fc.uuid(),
    );
    const cursor = (name: string) =>
      fc.oneof(
        fc.string({ maxLength: 60 }),
        fc.string({ unit: 'binary', maxLength: 30 }).map((s) => Buffer.from(s).toString('base64url')),
        fc.jsonValue({ maxDepth: 3 }).map(encode),
        fc.array(value, { maxLength: 4 }).map((values) => encode([real[name]![0], ...values])),
        fc.tuple(fc.nat(real[name]!.length - 1), value).map(([i, v]) => encode(real[name]!.map((x, j) => (j === i ? v : x)))),
        fc.nat(40).map((n) => encode(real[name]!).slice(0, n)),
        fc.constantFrom(encode(real[name]!) + '=', encode(real[name]!) + '.', encode(real[name]!).toUpperCase(), 'x'.repeat(5000), '', ' '),
      );
    for (const [name, list] of Object.entries(lists)) {
      await fc.assert(
        fc.asyncProperty(cursor(name), async (after) => {
          const res = await c.op(list.query, { a: after });
          if (c.expectAnswered(res, `${name} after ${JSON.stringify(after).slice(0, 120)}`) === 'ok') {
            expect(list.own((res.json as { data: Lists }).data), `${name} cursor ${after} paged someone else's rows`).toBe(true);
          } else {
            expect(codesOf(res.json)).toEqual(['BAD_USER_INPUT']);
          }
        }),
        runs(kind, 50, 25),
      );
    }
  });
});
