/**
 * The catalogue's rules as the API enforces them, against the independent oracle (rules-oracle.ts), over HTTP on both
 * databases: a random graph over the real catalogue is stored by `createGraph` exactly when the oracle finds no
 * problem of its structure (else every problem is listed and nothing is written), and then runs exactly when the
 * oracle finds no problem for a run (else every problem is listed and no run is written).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RuleLink } from '../../src/modules/blocks/graph-rules.js';
import { REQUIRED_VALUES } from '../../src/seed/graphs.js';
import { testDatabaseKinds } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { snapshotDatabase } from '../helpers/snapshot.js';
import { buildGraph, catalogue, graphs, meet, oracle, portTypes, sideOf, type Problem } from './rules-oracle.js';

const CREATE = `mutation($input: GraphInput!) { createGraph(input: $input) {
  graph { id nodes { id label } links { id sourceName sinkName source { label } sink { label } } } } }`;
const EXECUTE = 'mutation($id: ID!) { executeGraph(graphId: $id, inputs: {}) { graphExecution { id } } }';

type Answer = { data?: Record<string, unknown> | null; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
type ApiProblem = { rule: string; node?: string | null; link?: number | null; nodeId?: string | null; linkId?: string | null; port: string | null };

/** What the API checks before the catalogue: no duplicate link, no cycle through non-static links (DFS colouring). */
function structurallyValid(refs: string[], links: RuleLink[]): boolean {
  const identities = links.map((l) => JSON.stringify([l.source, l.sourceName, l.sink, l.sinkName]));
  if (new Set(identities).size !== identities.length) return false;
  const next = new Map(refs.map((ref) => [ref, links.filter((l) => !l.isStatic && l.source === ref).map((l) => l.sink)]));
  const colour = new Map<string, 1 | 2>();
  const visit = (ref: string): boolean => {
    colour.set(ref, 1);
    for (const to of next.get(ref)!) if (colour.get(to) === 1 || (!colour.has(to) && !visit(to))) return false;
    colour.set(ref, 2);
    return true;
  };
  return refs.every((ref) => colour.has(ref) || visit(ref));
}

/**
 * Half the graphs as generated (mostly refused), half mended towards validity — real blocks of the right type, the
 * seeder's defaults, real ports, forward links, nothing disabled, and (`feed`) required inputs given defaults — so
 * that refused writes, refused runs and runs all occur.
 */
const mostlyValid = fc.tuple(graphs, fc.boolean(), fc.boolean()).map(([g, mend, feed]) => ({
  mend,
  feed: mend && feed,
  g: mend
    ? {
        ...g,
        disabled: [],
        nodes: g.nodes.map((n, i) => ({ ...n, block: n.block ?? catalogue[i % catalogue.length]!, rightType: true, defaults: 'seeder' as const })),
        links: g.links
          .filter((l) => l.source !== l.sink)
          .map((l) => ({ ...l, source: Math.min(l.source, l.sink), sink: Math.max(l.source, l.sink), realSource: true, realSink: true })),
      }
    : g,
}));

/** A mended graph's links whose ports meet (by the oracle's reading of types), each once: its write then passes. */
function compatibleLinks(nodes: ReturnType<typeof buildGraph>['nodes'], links: RuleLink[]): RuleLink[] {
  const blockOf = (ref: string) => catalogue.find((b) => b.id === nodes.find((n) => n.ref === ref)!.blockId)!;
  const seen = new Set<string>();
  return links.filter((l) => {
    const identity = JSON.stringify([l.source, l.sourceName, l.sink, l.sinkName]);
    if (seen.has(identity)) return false;
    seen.add(identity);
    const out = sideOf(blockOf(l.source).outputSchema).properties?.[l.sourceName];
    const into = sideOf(blockOf(l.sink).inputSchema).properties?.[l.sinkName];
    return meet(portTypes(out), portTypes(into));
  });
}

/** Defaults for the required inputs no link feeds (an output node's value included). */
function feedRequiredInputs(nodes: ReturnType<typeof buildGraph>['nodes'], links: RuleLink[]): void {
  for (const node of nodes) {
    const block = catalogue.find((b) => b.id === node.blockId);
    const required = ((block?.inputSchema as { required?: string[] } | undefined)?.required ?? []) as string[];
    const defaults = node.inputDefault as Record<string, unknown>;
    for (const port of required) {
      if (port in defaults || links.some((l) => l.sink === node.ref && l.sinkName === port)) continue;
      defaults[port] = port in REQUIRED_VALUES ? REQUIRED_VALUES[port] : 'given';
    }
  }
}

const sorted = (problems: Problem[]) => problems.map((p) => JSON.stringify(p)).sort();

describe.each(testDatabaseKinds)('the catalogue’s rules over HTTP against the oracle on %s', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ database: kind });
  });
  afterAll(async () => {
    await server.db.prisma.block.updateMany({ where: { disabled: true }, data: { disabled: false } });
    await server?.close();
  });

  it('createGraph and executeGraph accept exactly what the oracle accepts, list exactly its problems, and write nothing else', async () => {
    const tally = { structural: 0, refusedWrite: 0, refusedRun: 0, ran: 0 };
    await fc.assert(
      fc.asyncProperty(mostlyValid, async ({ g, mend, feed }) => {
        const built = buildGraph(g);
        const { nodes, blocks } = built;
        // Mended: compatible links only, so that the write passes; fed too: required inputs given, so that the run does.
        const links = mend ? compatibleLinks(nodes, built.links) : built.links;
        if (feed) feedRequiredInputs(nodes, links);
        await server.db.prisma.block.updateMany({ where: { id: { in: g.disabled } }, data: { disabled: true } });
        await server.db.prisma.block.updateMany({ where: { id: { notIn: g.disabled }, disabled: true }, data: { disabled: false } });
        const expected = oracle(nodes, links, blocks);
        const input = {
          name: 'generated',
          nodes: nodes.map((n) => ({ key: n.ref, label: n.ref, blockId: n.blockId, nodeType: n.nodeType, inputDefault: n.inputDefault })),
          links,
        };
        const before = await snapshotDatabase(server.db);
        const created = (await server.graphql(CREATE, { input })) as Answer;
        const context = JSON.stringify(input);
        if (!structurallyValid(nodes.map((n) => n.ref), links) || expected.structure.length > 0) {
          expect(created.errors?.[0]?.extensions?.code, context).toBe('BAD_USER_INPUT');
          if (!structurallyValid(nodes.map((n) => n.ref), links)) tally.structural += 1;
          else {
            tally.refusedWrite += 1;
            const listed = created.errors![0]!.extensions!.problems as ApiProblem[];
            expect(sorted(listed.map((p): Problem => [p.rule, p.node ?? null, p.link ?? null, p.port])), context).toEqual(sorted(expected.structure));
          }
          expect(await snapshotDatabase(server.db), context).toEqual(before);
          return;
        }
        expect(created.errors, context).toBeUndefined();
        const graph = (created.data!.createGraph as { graph: { id: string; nodes: Array<{ id: string; label: string }>; links: Array<{ id: string; sourceName: string; sinkName: string; source: { label: string }; sink: { label: string } }> } }).graph;
        const refOf = new Map(graph.nodes.map((n) => [n.id, n.label]));
        const indexOf = new Map(graph.links.map((l) => [l.id, links.findIndex((x) => x.source === l.source.label && x.sink === l.sink.label && x.sourceName === l.sourceName && x.sinkName === l.sinkName)]));
        const runsBefore = await server.db.prisma.graphExecution.count({ where: { graphId: graph.id } });
        const ran = (await server.graphql(EXECUTE, { id: graph.id })) as Answer;
        if (expected.run.length > 0) {
          tally.refusedRun += 1;
          expect(ran.errors?.[0]?.extensions?.code, context).toBe('BAD_USER_INPUT');
          const listed = ran.errors![0]!.extensions!.problems as ApiProblem[];
          const asRefs = listed.map((p): Problem => [p.rule, p.nodeId ? refOf.get(p.nodeId)! : null, p.linkId ? indexOf.get(p.linkId)! : null, p.port]);
          expect(sorted(asRefs), context).toEqual(sorted(expected.run));
          expect(await server.db.prisma.graphExecution.count({ where: { graphId: graph.id } }), context).toBe(runsBefore);
        } else {
          tally.ran += 1;
          expect(ran.errors, context).toBeUndefined();
          expect(await server.db.prisma.graphExecution.count({ where: { graphId: graph.id } }), context).toBe(runsBefore + 1);
        }
      }),
      { numRuns: kind === 'postgres' ? 60 : 40, endOnFailure: true },
    );
    console.log(`[blocks] over HTTP on ${kind}: ${JSON.stringify(tally)}`);
    expect(tally.refusedWrite).toBeGreaterThan(0);
    expect(tally.refusedRun).toBeGreaterThan(0);
    expect(tally.ran).toBeGreaterThan(0);
  });
});
