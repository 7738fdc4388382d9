/**
 * How long the catalogue rules take on the largest graph the API accepts: 500 nodes and 2,000 links over the
 * built-in catalogue (every node with the seeder's defaults, links between real ports), checked for writing
 * (`structureProblems`) and for running (`runProblems`). In-process, no database: the rules are pure functions.
 *
 *   npm run bench:blocks [-- --rounds 50]
 */
import type { Block } from '../../src/generated/prisma/client.js';
import { portNamesOf } from '../../src/modules/blocks/block-definition.js';
import { builtInCatalogue } from '../../src/modules/blocks/block-sync.js';
import { runProblems, structureProblems, type RuleLink, type RuleNode } from '../../src/modules/blocks/graph-rules.js';
import { GRAPH_LIMITS } from '../../src/modules/graphs/graph-validation.js';
import { BLOCKS } from '../../src/seed/catalogue.js';
import { Rng } from '../../src/seed/random.js';

const roundsAt = process.argv.indexOf('--rounds');
const ROUNDS = roundsAt >= 0 ? Number(process.argv[roundsAt + 1]) : 50;

const catalogue = builtInCatalogue().blocks;
const blocks = new Map(catalogue.map((b) => [b.id, { ...b, source: 'agentgraph', createdAt: new Date(0), updatedAt: new Date(0) } as unknown as Block]));
const rng = new Rng(42);
const kinds = BLOCKS.filter((kind) => kind.nodeType === 'STANDARD');
const nodes: RuleNode[] = Array.from({ length: GRAPH_LIMITS.nodes }, (_, i) => {
  const kind = i === 0 ? BLOCKS.find((k) => k.nodeType === 'INPUT')! : rng.pick(kinds);
  return { ref: `n${i}`, blockId: kind.id, nodeType: kind.nodeType, inputDefault: kind.inputDefault(rng) };
});
const links: RuleLink[] = Array.from({ length: GRAPH_LIMITS.links }, (_, i) => {
  const sink = 1 + (i % (nodes.length - 1));
  const source = rng.int(0, sink - 1);
  const outputs = portNamesOf(catalogue.find((b) => b.id === nodes[source]!.blockId)!.outputSchema);
  const inputs = portNamesOf(catalogue.find((b) => b.id === nodes[sink]!.blockId)!.inputSchema);
  return { source: `n${source}`, sink: `n${sink}`, sourceName: rng.pick(outputs), sinkName: rng.pick(inputs), isStatic: false };
});

const times: number[] = [];
let problems = 0;
for (let round = 0; round < ROUNDS + 5; round++) {
  const started = performance.now();
  problems = structureProblems(nodes, links, blocks).length + runProblems(nodes, links, blocks).length;
  if (round >= 5) times.push(performance.now() - started);
}
times.sort((a, b) => a - b);
const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(2);
console.log(
  `rules on ${nodes.length} nodes, ${links.length} links (${problems} problems found, at most 200 a kind reported): ` +
    `median ${at(0.5)} ms, p90 ${at(0.9)} ms, max ${at(1)} ms over ${ROUNDS} rounds (after 5 warm-up rounds; Node ${process.version})`,
);
