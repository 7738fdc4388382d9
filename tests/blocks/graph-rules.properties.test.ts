/**
 * The catalogue rules (src/modules/blocks/graph-rules.ts) against the independent oracle of rules-oracle.ts: random
 * graphs over the real catalogue must get exactly the oracle's problems, rule by rule, node by node, link by link,
 * port by port.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runProblems, structureProblems } from '../../src/modules/blocks/graph-rules.js';
import { BLOCKS } from '../../src/seed/catalogue.js';
import { Rng } from '../../src/seed/random.js';
import { buildGraph, catalogueBlocks, graphs, oracle, type Problem } from './rules-oracle.js';

describe('the catalogue rules against an independent oracle', () => {
  it('random graphs over the real catalogue get exactly the oracle’s problems', () => {
    fc.assert(
      fc.property(graphs, (g) => {
        const { nodes, links, blocks } = buildGraph(g);
        const expected = oracle(nodes, links, blocks);
        const shape = (problems: Array<{ rule: string; node: string | null; link: number | null; port: string | null }>) => problems.map((p): Problem => [p.rule, p.node, p.link, p.port]);
        const sorted = (problems: Problem[]) => problems.map((p) => JSON.stringify(p)).sort();
        expect(sorted(shape(structureProblems(nodes, links, blocks)))).toEqual(sorted(expected.structure));
        expect(sorted(shape(runProblems(nodes, links, blocks)))).toEqual(sorted(expected.run));
      }),
      { numRuns: 1_500 },
    );
  });

  it('the seeder’s defaults are valid for every block (so the oracle may call them valid)', () => {
    const rng = new Rng(7);
    const blocks = catalogueBlocks();
    for (const kind of BLOCKS) {
      for (let i = 0; i < 20; i++) {
        const nodes = [{ ref: 'n', blockId: kind.id, nodeType: kind.nodeType, inputDefault: kind.inputDefault(rng) }];
        expect(structureProblems(nodes, [], blocks)).toEqual([]);
      }
    }
  });
});
