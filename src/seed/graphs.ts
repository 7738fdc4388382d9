/**
 * Users, their API keys, and their graphs: 1–4 immutable versions each (the latest active), every version a
 * small edit of the previous one. Nodes are kept in topological order and every link points forward in that
 * order, so no version can contain a cycle.
 */
import { EMAIL_DOMAINS, FIRST_NAMES, GRAPH_NAMES, INPUT_BLOCK, LAST_NAMES, OUTPUT_BLOCK, STANDARD_WEIGHTS, WEBHOOK_BLOCK, type BlockKind } from './catalogue.js';
import { clamp, iso, type Rng } from './random.js';
import { portsCompatible } from '../modules/blocks/graph-rules.js';
import { prepareUser } from './users.js';
import type { RowBuffer } from './writer.js';
import type { ApiKeyPermission } from '../generated/prisma/enums.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export type SeededUser = { id: string; email: string; createdAt: number; key: string; permissions: ApiKeyPermission[] };

export type SeededNode = { id: string; block: BlockKind; label: string };
export type SeededVersion = { version: number; createdAt: number; nodes: SeededNode[] };
export type SeededGraph = { id: string; userId: string; versions: SeededVersion[]; popularity: number };

/** A node of a version while editing; `key` is stable across versions of one graph. */
type NodeSpec = { key: number; block: BlockKind; label: string; inputDefault: Record<string, unknown> };
type LinkSpec = { source: number; sink: number; sourceName: string; sinkName: string; isStatic: boolean };

export function generateUsers(rng: Rng, buffer: RowBuffer, count: number, start: number, windowMs: number, reservedEmails: ReadonlySet<string>): SeededUser[] {
  const users: SeededUser[] = [];
  const emails = new Set(reservedEmails);
  for (let i = 0; i < count; i++) {
    const admin = i === 0;
    const first = rng.pick(FIRST_NAMES);
    const last = rng.pick(LAST_NAMES);
    const name = admin ? 'Admin' : `${first} ${last}`;
    const base = admin ? 'admin' : `${first}.${last}`.toLowerCase().replace(/[^a-z.]/g, '');
    const domain = admin ? 'example.com' : rng.pick(EMAIL_DOMAINS);
    let email = `${base}@${domain}`;
    for (let n = 2; emails.has(email); n++) email = `${base}${n}@${domain}`;
    emails.add(email);
    // Users sign up over the first fifth of the window (the admin first).
    const createdAt = admin ? start : Math.floor(start + rng.next() * 0.2 * windowMs);
    const user: SeededUser = { id: rng.uuid7(createdAt), email, createdAt, key: '', permissions: [] };
    users.push(user);
    const prepared = prepareUser({ email, name, admin, keyName: admin ? 'Admin key' : 'Default key' });
    user.key = prepared.key;
    user.permissions = prepared.permissions;
    const metadata = { timezone: rng.pick(['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo']), onboarding: { completed: rng.chance(0.8) } };
    buffer.add('users', [user.id, email, name, JSON.stringify(metadata), iso(user.createdAt), iso(user.createdAt)]);
    const keyCreatedAt = user.createdAt + rng.int(1_000, 600_000);
    buffer.add('apiKeys', [
      rng.uuid7(keyCreatedAt),
      user.id,
      prepared.keyName,
      prepared.prefix,
      prepared.secretHash,
      `{${prepared.permissions.join(',')}}`,
      'ACTIVE',
      iso(keyCreatedAt),
      null,
      null,
    ]);
  }
  return users;
}

function newNode(rng: Rng, key: number, block: BlockKind): NodeSpec {
  const inputDefault = block.inputDefault(rng);
  const label = block.nodeType === 'INPUT' || block.nodeType === 'OUTPUT' ? String(inputDefault.name) : rng.chance(0.5) ? block.name.replace(/Block$/, '') : `${block.name.replace(/Block$/, '')} ${key}`;
  return { key, block, label, inputDefault };
}

function linkKey(link: LinkSpec): string {
  return `${link.source}|${link.sourceName}|${link.sink}|${link.sinkName}`;
}

/**
 * Adds a forward link source → sink between ports of compatible types (the catalogue's rule), unless that exact link
 * exists. False when no output of the source may feed an input of the sink.
 */
function addLink(rng: Rng, links: LinkSpec[], source: NodeSpec, sink: NodeSpec): boolean {
  const sinkPorts = sink.block.nodeType === 'OUTPUT' ? sink.block.inputs.filter((port) => port.name === 'value') : sink.block.inputs;
  const pairs = sinkPorts.flatMap((into) => source.block.outputs.filter((out) => portsCompatible(out.types, into.types)).map((out) => [out.name, into.name] as const));
  if (pairs.length === 0) return false;
  const [sourceName, sinkName] = rng.pick(pairs);
  const link: LinkSpec = { source: source.key, sink: sink.key, sourceName, sinkName, isStatic: source.block.nodeType === 'INPUT' && rng.chance(0.3) };
  if (!links.some((other) => linkKey(other) === linkKey(link))) links.push(link);
  return true;
}

/** A link into `sink` from `preferred`, else from the nearest of `candidates` that has a compatible port. */
function linkInto(rng: Rng, links: LinkSpec[], candidates: readonly NodeSpec[], sink: NodeSpec, preferred: NodeSpec): void {
  if (addLink(rng, links, preferred, sink)) return;
  for (let i = candidates.length - 1; i >= 0; i--) if (addLink(rng, links, candidates[i]!, sink)) return;
}

/** Values for required inputs that neither a link nor the block's drawn default feeds, so every seeded version can run. */
export const REQUIRED_VALUES: Readonly<Record<string, unknown>> = {
  prompt: 'Summarize the input in three sentences.',
  value1: 0,
  text: '',
  trigger: true,
  input: null,
  query: 'latest news',
  to_email: 'team@example.com',
  body: 'See the summary below.',
  entry: 'item',
};

/** `node`'s default with a value for each required input its links leave unfed (an input node's value comes with the run). */
function runnableDefault(node: NodeSpec, links: readonly LinkSpec[]): Record<string, unknown> {
  const completed = { ...node.inputDefault };
  for (const port of node.block.inputs) {
    if (!port.required || port.name in completed || links.some((link) => link.sink === node.key && link.sinkName === port.name)) continue;
    if (node.block.nodeType === 'INPUT' && port.name === 'value') continue;
    if (!(port.name in REQUIRED_VALUES)) throw new Error(`The seeder has no value for the required input ${node.block.name}.${port.name}`);
    completed[port.name] = REQUIRED_VALUES[port.name];
  }
  return completed;
}

function initialSpec(rng: Rng): { nodes: NodeSpec[]; links: LinkSpec[]; nextKey: number } {
  const total = clamp(Math.round(rng.logNormal(8, 0.5)), 3, 30);
  const webhook = rng.chance(0.12);
  const inputs = webhook ? 1 : total >= 7 ? rng.int(1, 3) : 1;
  const outputs = total >= 9 && rng.chance(0.4) ? 2 : 1;
  const middle = Math.max(1, total - inputs - outputs);
  const nodes: NodeSpec[] = [];
  let key = 0;
  for (let i = 0; i < inputs; i++) nodes.push(newNode(rng, key++, webhook ? WEBHOOK_BLOCK : INPUT_BLOCK));
  for (let i = 0; i < middle; i++) nodes.push(newNode(rng, key++, rng.weighted(STANDARD_WEIGHTS)));
  for (let i = 0; i < outputs; i++) nodes.push(newNode(rng, key++, OUTPUT_BLOCK));
  const links: LinkSpec[] = [];
  const firstOutput = inputs + middle;
  for (let j = 1; j < nodes.length; j++) {
    const sink = nodes[j]!;
    if (j < inputs) continue; // inputs have no incoming links
    const candidates = j >= firstOutput ? nodes.slice(inputs, firstOutput) : nodes.slice(0, j);
    const fanIn = j >= firstOutput ? 1 : rng.chance(0.35) ? 2 : 1;
    for (let k = 0; k < fanIn; k++) {
      const source = rng.chance(0.6) ? candidates[candidates.length - 1]! : rng.pick(candidates);
      linkInto(rng, links, candidates, sink, source);
    }
  }
  return { nodes, links, nextKey: key };
}

/** The next version: tweak a default, add a node before the outputs, or drop a middle node. */
function editSpec(rng: Rng, spec: { nodes: NodeSpec[]; links: LinkSpec[]; nextKey: number }): void {
  const middle = spec.nodes.filter((n) => n.block.nodeType === 'STANDARD');
  const action = rng.weighted([
    ['tweak', 4],
    ['add', spec.nodes.length < 30 ? 4 : 0],
    ['remove', middle.length > 1 ? 2 : 0],
  ] as const);
  if (action === 'tweak') {
    const node = rng.pick(spec.nodes);
    node.inputDefault = { ...node.block.inputDefault(rng), ...(node.block.nodeType === 'INPUT' || node.block.nodeType === 'OUTPUT' ? { name: node.label } : {}) };
  } else if (action === 'add') {
    const firstOutput = spec.nodes.findIndex((n) => n.block.nodeType === 'OUTPUT');
    const node = newNode(rng, spec.nextKey++, rng.weighted(STANDARD_WEIGHTS));
    spec.nodes.splice(firstOutput, 0, node);
    const before = spec.nodes.slice(0, firstOutput);
    linkInto(rng, spec.links, before, node, rng.pick(before));
    addLink(rng, spec.links, node, spec.nodes[firstOutput + 1]!);
  } else {
    const victim = rng.pick(middle);
    spec.nodes = spec.nodes.filter((n) => n !== victim);
    spec.links = spec.links.filter((l) => l.source !== victim.key && l.sink !== victim.key);
    // An output whose only feed was the removed node is fed by another middle node (its value is required).
    const feeders = spec.nodes.filter((n) => n.block.nodeType === 'STANDARD');
    for (const output of spec.nodes.filter((n) => n.block.nodeType === 'OUTPUT')) {
      if (!spec.links.some((l) => l.sink === output.key)) addLink(rng, spec.links, rng.pick(feeders), output);
    }
  }
}

/** `runnableRevision`: the catalogue revision at which every version runs without a check (see seedDatabase). */
export function generateGraphs(rng: Rng, buffer: RowBuffer, users: SeededUser[], graphsPerUser: number, now: number, runnableRevision: number | null): SeededGraph[] {
  const graphs: SeededGraph[] = [];
  for (const [userIndex, user] of users.entries()) {
    const names = rng.sample(GRAPH_NAMES, graphsPerUser);
    for (let g = 0; g < graphsPerUser; g++) {
      const name = names[g] ?? `${rng.pick(GRAPH_NAMES)} ${g + 1}`;
      const description = rng.chance(0.8) ? `${name}: built with the agent builder.` : null;
      const versionCount = rng.weighted([[1, 50], [2, 25], [3, 15], [4, 10]] as const);
      const graphId = rng.uuid7(user.createdAt);
      const graph: SeededGraph = { id: graphId, userId: user.id, versions: [], popularity: rng.logNormal(1, 1.2) };
      const spec = initialSpec(rng);
      // First version a few days after signup, later ones days or weeks apart; never in the last hour.
      let createdAt = Math.min(user.createdAt + rng.logNormal(2 * DAY, 1), now - 2 * HOUR);
      for (let v = 1; v <= versionCount; v++) {
        if (v > 1) {
          editSpec(rng, spec);
          createdAt = Math.min(createdAt + rng.logNormal(7 * DAY, 0.8), now - HOUR - (versionCount - v) * 60_000);
        }
        const previous = graph.versions[graph.versions.length - 1]?.createdAt ?? user.createdAt + 59_000;
        createdAt = Math.floor(Math.max(createdAt, previous + 1_000));
        const version: SeededVersion = { version: v, createdAt, nodes: [] };
        const isActive = v === versionCount;
        // About one graph in 32 has its active version published as a template (from its id: no draw of the generator),
        // and so does the first user's first graph after the admin's, so that even the small demo data has one.
        const isTemplate = isActive && (parseInt(graphId.slice(-2), 16) % 32 === 0 || (userIndex === 1 && g === 0));
        buffer.add('graphs', [graphId, v, name, description, isActive, user.id, true, isTemplate, runnableRevision, iso(createdAt), iso(createdAt)]);
        const ids = new Map<number, string>();
        spec.nodes.forEach((node, index) => {
          const id = rng.uuid7(createdAt);
          ids.set(node.key, id);
          version.nodes.push({ id, block: node.block, label: node.label });
          const metadata = { position: { x: index * 320 + rng.int(-40, 40), y: rng.int(-3, 3) * 180 } };
          buffer.add('nodes', [id, graphId, v, node.block.id, node.label, node.block.nodeType, JSON.stringify(runnableDefault(node, spec.links)), JSON.stringify(metadata)]);
        });
        for (const link of spec.links) {
          buffer.add('links', [rng.uuid7(createdAt), graphId, v, ids.get(link.source)!, ids.get(link.sink)!, link.sourceName, link.sinkName, link.isStatic]);
        }
        graph.versions.push(version);
      }
      graphs.push(graph);
    }
  }
  return graphs;
}
