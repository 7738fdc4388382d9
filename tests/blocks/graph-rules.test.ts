import { describe, expect, it } from 'vitest';
import type { Block } from '../../src/generated/prisma/client.js';
import { builtInCatalogue } from '../../src/modules/blocks/block-sync.js';
import { entryNodes, portsCompatible, runProblems, structureProblems, type RuleLink, type RuleNode } from '../../src/modules/blocks/graph-rules.js';

const catalogue = builtInCatalogue();
const blocks = new Map<string, Block>(
  catalogue.blocks.map((b) => [b.id, { ...b, source: 'agentgraph', createdAt: new Date(0), updatedAt: new Date(0) } as unknown as Block]),
);
const id = (name: string) => catalogue.blocks.find((b) => b.name === name)!.id;

const node = (ref: string, block: string, inputDefault: Record<string, unknown> = {}, nodeType?: RuleNode['nodeType']): RuleNode => ({
  ref,
  blockId: id(block),
  nodeType: nodeType ?? catalogue.blocks.find((b) => b.name === block)!.nodeType,
  inputDefault,
});
const link = (source: string, sourceName: string, sink: string, sinkName: string, isStatic = false): RuleLink => ({ source, sourceName, sink, sinkName, isStatic });
const rules = (problems: Array<{ rule: string; node: string | null; link: number | null; port: string | null }>) => problems.map((p) => [p.rule, p.node, p.link, p.port]);

/** input → LLM → output: valid under every rule. */
const valid = () => ({
  nodes: [node('in', 'AgentInputBlock', { name: 'topic' }), node('llm', 'AITextGeneratorBlock', { model: 'gpt-4o', max_tokens: 256 }), node('out', 'AgentOutputBlock', { name: 'answer' })],
  links: [link('in', 'result', 'llm', 'prompt'), link('llm', 'response', 'out', 'value')],
});

describe('the catalogue rules of a graph', () => {
  it('a valid graph has no problem, for writing or for running', () => {
    const { nodes, links } = valid();
    expect(structureProblems(nodes, links, blocks)).toEqual([]);
    expect(runProblems(nodes, links, blocks)).toEqual([]);
  });

  it('names every problem of a graph at once: unknown blocks, node types, ports, types, defaults', () => {
    const nodes = [
      node('in', 'AgentInputBlock', { name: 'topic', nope: 1 }),
      node('llm', 'AITextGeneratorBlock', { model: 'gpt-5-imaginary', max_tokens: 'many' }),
      node('list', 'AddToListBlock'),
      node('out', 'AgentOutputBlock', { name: 'answer' }, 'STANDARD'),
      { ref: 'ghost', blockId: 'no-such-block', nodeType: 'STANDARD' as const, inputDefault: {} },
    ];
    const links = [
      link('in', 'result', 'llm', 'prompt'),
      link('llm', 'answer', 'out', 'value'), // no such output
      link('llm', 'response', 'out', 'valeu'), // no such input
      link('llm', 'response', 'list', 'list'), // string into array
      link('ghost', 'x', 'out', 'value'), // unknown block: its ports are not checked
    ];
    expect(rules(structureProblems(nodes, links, blocks))).toEqual([
      ['UNKNOWN_INPUT_DEFAULT', 'in', null, 'nope'],
      ['INVALID_INPUT_DEFAULT', 'llm', null, 'model'],
      ['INVALID_INPUT_DEFAULT', 'llm', null, 'max_tokens'],
      ['NODE_TYPE_MISMATCH', 'out', null, null],
      ['UNKNOWN_BLOCK', 'ghost', null, null],
      ['UNKNOWN_SOURCE_PORT', 'llm', 1, 'answer'],
      ['UNKNOWN_SINK_PORT', 'out', 2, 'valeu'],
      ['INCOMPATIBLE_PORTS', 'list', 3, 'list'],
    ]);
  });

  it('a disabled block is a problem of its nodes', () => {
    const disabled = new Map(blocks);
    disabled.set(id('SendEmailBlock'), { ...blocks.get(id('SendEmailBlock'))!, disabled: true });
    expect(rules(structureProblems([node('mail', 'SendEmailBlock', { to_email: 'a@example.com', subject: 's', body: 'b' })], [], disabled))).toEqual([['DISABLED_BLOCK', 'mail', null, null]]);
  });

  it('before a run: an entry node, every node reachable, every required input fed', () => {
    // A cycle through a static link that nothing outside feeds: no entry node, nothing reachable.
    const cycle = [node('a', 'StoreValueBlock'), node('b', 'StoreValueBlock')];
    const cycleLinks = [link('a', 'output', 'b', 'input'), link('b', 'output', 'a', 'input', true)];
    expect(rules(runProblems(cycle, cycleLinks, blocks))).toEqual([
      ['NO_ENTRY_NODE', null, null, null],
      ['UNREACHABLE_NODE', 'a', null, null],
      ['UNREACHABLE_NODE', 'b', null, null],
    ]);
    // An unlinked STANDARD node whose block requires `prompt`, with no default, cannot run; it is an entry node itself.
    const { nodes, links } = valid();
    const lonely = [...nodes, node('alone', 'AITextSummarizerBlock')];
    expect(rules(runProblems(lonely, links, blocks))).toEqual([['MISSING_REQUIRED_INPUT', 'alone', null, 'prompt']]);
    // A default feeds it.
    expect(runProblems([...nodes, node('alone', 'AITextSummarizerBlock', { prompt: 'Summarize' })], links, blocks)).toEqual([]);
    // Fed by the cycle: the cycle's nodes are reached through a node outside it.
    const fed = [node('in', 'AgentInputBlock', { name: 'x' }), ...cycle];
    expect(rules(runProblems(fed, [link('in', 'result', 'a', 'input'), ...cycleLinks], blocks))).toEqual([]);
  });

  it('input and trigger nodes are entry nodes even when a link feeds them', () => {
    const nodes = [node('in', 'AgentInputBlock', { name: 'x' }), node('store', 'StoreValueBlock')];
    const links = [link('store', 'output', 'in', 'value'), link('in', 'result', 'store', 'input', true)];
    expect(entryNodes(nodes, links).map((n) => n.ref)).toEqual(['in']);
  });

  it('port types: a port of no type meets everything; an integer is a number', () => {
    expect(portsCompatible([], ['string'])).toBe(true);
    expect(portsCompatible(['object'], [])).toBe(true);
    expect(portsCompatible(['integer'], ['number'])).toBe(true);
    expect(portsCompatible(['number'], ['integer'])).toBe(false);
    expect(portsCompatible(['string'], ['array'])).toBe(false);
    expect(portsCompatible(['string', 'null'], ['null'])).toBe(true);
  });

  it("with the run's inputs: an input node's value comes from them by name and must be valid for its port", () => {
    // A deployment's input block whose value is a required integer of 1 to 10.
    const numberInput = {
      ...blocks.get(id('AgentInputBlock'))!,
      id: '11111111-1111-4111-8111-111111111111',
      name: 'NumberInputBlock',
      inputSchema: { type: 'object', properties: { name: { type: 'string' }, value: { type: 'integer', minimum: 1, maximum: 10 } }, required: ['name', 'value'] },
    } as Block;
    const withNumber = new Map([...blocks, [numberInput.id, numberInput]]);
    const nodes: RuleNode[] = [{ ref: 'n', blockId: numberInput.id, nodeType: 'INPUT', inputDefault: { name: 'count' } }, node('out', 'AgentOutputBlock', { name: 'count' })];
    const links = [link('n', 'result', 'out', 'value')];
    // A stored graph's problems assume the run brings the value.
    expect(runProblems(nodes, links, withNumber)).toEqual([]);
    expect(rules(runProblems(nodes, links, withNumber, { other: 1 }))).toEqual([['MISSING_REQUIRED_INPUT', 'n', null, 'value']]);
    expect(rules(runProblems(nodes, links, withNumber, { count: 11 }))).toEqual([['INVALID_RUN_INPUT', 'n', null, 'value']]);
    expect(rules(runProblems(nodes, links, withNumber, { count: '3' }))).toEqual([['INVALID_RUN_INPUT', 'n', null, 'value']]);
    expect(runProblems(nodes, links, withNumber, { count: 3, unrelated: 'ignored' })).toEqual([]);
    // A default value feeds it when the run has none; a run's value is still checked against the port.
    const defaulted = [{ ...nodes[0]!, inputDefault: { name: 'count', value: 5 } }, nodes[1]!];
    expect(runProblems(defaulted, links, withNumber, {})).toEqual([]);
    expect(rules(runProblems(defaulted, links, withNumber, { count: 0 }))).toEqual([['INVALID_RUN_INPUT', 'n', null, 'value']]);
    // The built-in input block's value holds anything and is not required.
    expect(runProblems(valid().nodes, valid().links, blocks, {})).toEqual([]);
    expect(runProblems(valid().nodes, valid().links, blocks, { topic: { any: ['thing'] } })).toEqual([]);
  });
});
