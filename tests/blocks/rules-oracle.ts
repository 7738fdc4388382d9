/**
 * An oracle of the catalogue rules written independently of src/modules/blocks/graph-rules.ts, from the README's
 * words, and a generator of random graphs over the real catalogue — real and made-up blocks, node types right and
 * wrong, real and made-up ports, defaults valid (the seeder's own) and of the wrong type, links anywhere, static or
 * not. Used on the rules themselves (graph-rules.properties.test.ts) and over HTTP (enforcement.properties.test.ts).
 */
import fc from 'fast-check';
import type { Block, NodeType } from '../../src/generated/prisma/client.js';
import { builtInCatalogue } from '../../src/modules/blocks/block-sync.js';
import type { RuleLink, RuleNode } from '../../src/modules/blocks/graph-rules.js';
import { BLOCKS } from '../../src/seed/catalogue.js';
import { Rng } from '../../src/seed/random.js';

export const catalogue = builtInCatalogue().blocks;
const NODE_TYPES: NodeType[] = ['STANDARD', 'INPUT', 'OUTPUT', 'WEBHOOK'];

type Schema = { type?: string | string[]; properties?: Record<string, Schema>; required?: string[] };
export const sideOf = (schema: unknown) => schema as Schema;
export const portTypes = (schema: Schema | undefined): string[] => (schema?.type === undefined ? [] : ([] as string[]).concat(schema.type));

/** The oracle's reading of "types meet", from the README's words. */
export function meet(source: string[], sink: string[]): boolean {
  if (source.length === 0 || sink.length === 0) return true;
  for (const s of source) for (const t of sink) if (s === t || (s === 'integer' && t === 'number')) return true;
  return false;
}

/** A value of a JSON type none of `types` admits (and not an integer into a number). */
function wrongValue(types: string[]): unknown {
  const samples: Array<[string, unknown]> = [['boolean', true], ['array', [1]], ['object', { a: 1 }], ['string', 'text'], ['null', null]];
  return samples.find(([type]) => !types.includes(type))![1];
}

export type Problem = [string, string | null, number | null, string | null];

export function oracle(nodes: RuleNode[], links: RuleLink[], blocks: Map<string, Block>): { structure: Problem[]; run: Problem[] } {
  const structure: Problem[] = [];
  const byRef = new Map(nodes.map((n) => [n.ref, n]));
  for (const n of nodes) {
    const b = blocks.get(n.blockId);
    if (!b) {
      structure.push(['UNKNOWN_BLOCK', n.ref, null, null]);
      continue;
    }
    if (b.disabled) structure.push(['DISABLED_BLOCK', n.ref, null, null]);
    if (b.nodeType !== n.nodeType) structure.push(['NODE_TYPE_MISMATCH', n.ref, null, null]);
    const inputs = sideOf(b.inputSchema).properties ?? {};
    for (const key of Object.keys(n.inputDefault as Record<string, unknown>)) {
      if (!(key in inputs)) structure.push(['UNKNOWN_INPUT_DEFAULT', n.ref, null, key]);
      else if (WRONG.has(`${n.ref}\u0000${key}`)) structure.push(['INVALID_INPUT_DEFAULT', n.ref, null, key]);
    }
  }
  links.forEach((l, i) => {
    const sb = blocks.get(byRef.get(l.source)!.blockId);
    const tb = blocks.get(byRef.get(l.sink)!.blockId);
    const out = sb ? sideOf(sb.outputSchema).properties?.[l.sourceName] : undefined;
    const into = tb ? sideOf(tb.inputSchema).properties?.[l.sinkName] : undefined;
    if (sb && !out) structure.push(['UNKNOWN_SOURCE_PORT', l.source, i, l.sourceName]);
    if (tb && !into) structure.push(['UNKNOWN_SINK_PORT', l.sink, i, l.sinkName]);
    if (out && into && !meet(portTypes(out), portTypes(into))) structure.push(['INCOMPATIBLE_PORTS', l.sink, i, l.sinkName]);
  });

  const run: Problem[] = [];
  const entries = nodes.filter((n) => n.nodeType === 'INPUT' || n.nodeType === 'WEBHOOK' || !links.some((l) => l.sink === n.ref));
  if (entries.length === 0) run.push(['NO_ENTRY_NODE', null, null, null]);
  // Reachability as a fixpoint over the links (the implementation walks a queue).
  const reached = new Set(entries.map((n) => n.ref));
  for (let changed = true; changed; ) {
    changed = false;
    for (const l of links) if (reached.has(l.source) && !reached.has(l.sink)) changed = reached.add(l.sink) !== undefined;
  }
  for (const n of nodes) if (!reached.has(n.ref)) run.push(['UNREACHABLE_NODE', n.ref, null, null]);
  for (const n of nodes) {
    const b = blocks.get(n.blockId);
    if (!b) continue;
    const schema = sideOf(b.inputSchema);
    for (const port of schema.required ?? []) {
      const fed = links.some((l) => l.sink === n.ref && l.sinkName === port);
      const defaulted = Object.hasOwn(n.inputDefault as object, port);
      const fromRun = n.nodeType === 'INPUT' && port === 'value';
      if (!fed && !defaulted && !fromRun) run.push(['MISSING_REQUIRED_INPUT', n.ref, null, port]);
    }
  }
  return { structure, run };
}

/** `<node>\0<port>` of the defaults the generator made of a wrong type: the oracle knows them as invalid. */
const WRONG = new Set<string>();

const seederDefault = new Map(BLOCKS.map((kind) => [kind.id, kind.inputDefault]));

export const graphs = fc
  .record({
    nodeCount: fc.integer({ min: 1, max: 10 }),
    seed: fc.integer({ min: 1, max: 1_000_000 }),
    disabled: fc.subarray(catalogue.map((b) => b.id), { maxLength: 3 }),
  })
  .chain(({ nodeCount, seed, disabled }) =>
    fc.record({
      seed: fc.constant(seed),
      disabled: fc.constant(disabled),
      nodes: fc.array(
        fc.record({
          block: fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...catalogue) }, { weight: 1, arbitrary: fc.constant(null) }),
          rightType: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
          otherType: fc.constantFrom(...NODE_TYPES),
          defaults: fc.constantFrom('seeder', 'none', 'wrong', 'unknown'),
        }),
        { minLength: nodeCount, maxLength: nodeCount },
      ),
      links: fc.array(
        fc.record({
          source: fc.nat(nodeCount - 1),
          sink: fc.nat(nodeCount - 1),
          realSource: fc.boolean(),
          realSink: fc.boolean(),
          pick: fc.nat(20),
          isStatic: fc.boolean(),
        }),
        { maxLength: 3 * nodeCount },
      ),
    }),
  );

export type GeneratedGraph = typeof graphs extends fc.Arbitrary<infer G> ? G : never;

/** The catalogue as the rules see it, with these blocks disabled. */
export const catalogueBlocks = (disabled: readonly string[] = []) =>
  new Map(catalogue.map((b) => [b.id, { ...b, disabled: disabled.includes(b.id), source: 'agentgraph', createdAt: new Date(0), updatedAt: new Date(0) } as unknown as Block]));

/** A generated graph's nodes (refs n0, n1, …) and links; the oracle knows which defaults were made wrong. */
export function buildGraph(g: GeneratedGraph): { nodes: RuleNode[]; links: RuleLink[]; blocks: Map<string, Block> } {
  WRONG.clear();
  const blocks = catalogueBlocks(g.disabled);
  const rng = new Rng(g.seed);
  const nodes: RuleNode[] = g.nodes.map((spec, i) => {
    const block = spec.block;
    const inputDefault: Record<string, unknown> = {};
    if (block && spec.defaults === 'seeder') Object.assign(inputDefault, seederDefault.get(block.id)?.(rng) ?? {});
    if (block && spec.defaults === 'wrong') {
      const typed = Object.entries(sideOf(block.inputSchema).properties ?? {}).find(([, schema]) => portTypes(schema).length > 0);
      if (typed) {
        inputDefault[typed[0]] = wrongValue(portTypes(typed[1]));
        WRONG.add(`n${i}\u0000${typed[0]}`);
      }
    }
    if (spec.defaults === 'unknown') inputDefault.not_a_port = 1;
    return {
      ref: `n${i}`,
      blockId: block?.id ?? `made-up-${i}`,
      nodeType: block && spec.rightType ? block.nodeType : spec.otherType,
      inputDefault,
    };
  });
  const portOf = (blockId: string, side: 'inputSchema' | 'outputSchema', real: boolean, pick: number) => {
    const block = catalogue.find((b) => b.id === blockId);
    const names = Object.keys(block ? (sideOf(block[side]).properties ?? {}) : {});
    return real && names.length > 0 ? names[pick % names.length]! : `port_${pick}`;
  };
  const links: RuleLink[] = g.links.map((l) => ({
    source: `n${l.source}`,
    sink: `n${l.sink}`,
    sourceName: portOf(nodes[l.source]!.blockId, 'outputSchema', l.realSource, l.pick),
    sinkName: portOf(nodes[l.sink]!.blockId, 'inputSchema', l.realSink, l.pick),
    isStatic: l.isStatic,
  }));
  return { nodes, links, blocks };
}
