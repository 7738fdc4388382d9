/**
 * Graph executions and their node executions (one per node of the executed version). Statuses, timestamps
 * and costs are generated together so the invariants hold by construction: the run's cost is the sum of its
 * nodes' costs, node spans lie inside the run's span, and node statuses agree with the run's status.
 */
import { ERRORS, SENTENCES, TOPICS } from './catalogue.js';
import type { SeededGraph, SeededVersion } from './graphs.js';
import { iso, type Rng } from './random.js';
import type { Cell, RowBuffer } from './writer.js';

type Status = 'INCOMPLETE' | 'QUEUED' | 'RUNNING' | 'COMPLETED' | 'TERMINATED' | 'FAILED' | 'REVIEW';

const STATUS_MIX: ReadonlyArray<readonly [Status, number]> = [
  ['COMPLETED', 80],
  ['FAILED', 9],
  ['TERMINATED', 3],
  ['RUNNING', 3],
  ['QUEUED', 3],
  ['REVIEW', 2],
];

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Cumulative popularity, to pick graphs with a long-tailed frequency by binary search. */
export function cumulative(graphs: ReadonlyArray<{ popularity: number }>): Float64Array {
  const sums = new Float64Array(graphs.length);
  let total = 0;
  graphs.forEach((g, i) => (sums[i] = total += g.popularity));
  return sums;
}

/** The index picked by `r` (uniform in [0, 1)) from cumulative sums: each index with a chance proportional to its weight. */
export function pickIndex(sums: Float64Array, r: number): number {
  const target = r * sums[sums.length - 1]!;
  let lo = 0;
  let hi = sums.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sums[mid]! > target) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function versionAt(graph: SeededGraph, at: number): SeededVersion {
  let chosen = graph.versions[0]!;
  for (const v of graph.versions) if (v.createdAt <= at) chosen = v;
  return chosen;
}

const seconds = (ms: number) => Math.round(ms) / 1000;

export async function generateExecutions(rng: Rng, buffer: RowBuffer, graphs: SeededGraph[], count: number, now: number): Promise<void> {
  if (graphs.length === 0) return;
  const sums = cumulative(graphs);
  for (let e = 0; e < count; e++) {
    const graph = graphs[pickIndex(sums, rng.next())]!;
    const status = rng.weighted(STATUS_MIX);
    const first = graph.versions[0]!.createdAt;
    const latest = graph.versions[graph.versions.length - 1]!;
    let createdAt: number;
    let version: SeededVersion;
    if (status === 'QUEUED' || status === 'RUNNING' || status === 'REVIEW') {
      // Unfinished runs are recent (a waiting review may be a few hours old) and use the active version.
      const age = status === 'REVIEW' ? rng.logNormal(2 * HOUR, 1) : rng.logNormal(3 * MINUTE, 1);
      version = latest;
      createdAt = Math.floor(Math.max(now - age, latest.createdAt + 1_000));
    } else {
      // More runs recently: u^0.7 pushes times toward now.
      createdAt = Math.floor(first + (now - 10 * MINUTE - first) * Math.pow(rng.next(), 0.7));
      version = versionAt(graph, createdAt);
      createdAt = Math.max(createdAt, version.createdAt + 1_000);
    }
    writeExecution(rng, buffer, graph, version, status, Math.min(createdAt, now - 1_000), now);
    if ((e & 255) === 255) await buffer.maybeFlush();
  }
}

function writeExecution(rng: Rng, buffer: RowBuffer, graph: SeededGraph, version: SeededVersion, status: Status, createdAt: number, now: number): void {
  const id = rng.uuid7(createdAt);
  const nodes = version.nodes;
  const n = nodes.length;
  const startedAt = status === 'QUEUED' ? null : Math.min(createdAt + Math.round(rng.logNormal(400, 1)), now);
  let endedAt: number | null = null;
  if (startedAt !== null && (status === 'COMPLETED' || status === 'FAILED' || status === 'TERMINATED')) {
    const walltime = Math.min(rng.logNormal(15_000 * Math.sqrt(n / 8), 1.2), 6 * HOUR);
    endedAt = Math.min(startedAt + Math.round(walltime), now);
  }
  // Nodes reached: all when completed; a prefix otherwise, `stop` being the node that failed / was
  // terminated / is running / awaits review.
  let stop = n;
  if (status === 'FAILED' || status === 'TERMINATED' || status === 'RUNNING' || status === 'REVIEW') stop = rng.int(Math.min(1, n - 1), n - 1);
  const reached = status === 'QUEUED' ? 0 : status === 'COMPLETED' ? n : stop + 1;
  const spanEnd = endedAt ?? now;
  // Split the run's span among reached nodes by weight (heavier blocks take longer).
  const weights = nodes.slice(0, reached).map((node) => node.block.weight * rng.logNormal(1, 0.8));
  const totalWeight = weights.reduce((a, b) => a + b, 0) || 1;
  const errorMessage = status === 'FAILED' ? rng.pick(ERRORS) : null;
  let cursor = startedAt ?? createdAt;
  let cost = 0;
  let nodesWalltime = 0;
  let executed = 0;
  const rows: Cell[][] = [];
  for (let i = 0; i < n; i++) {
    const node = nodes[i]!;
    let nodeStatus: Status;
    if (status === 'QUEUED') nodeStatus = i === 0 ? 'QUEUED' : 'INCOMPLETE';
    else if (i < stop || status === 'COMPLETED') nodeStatus = 'COMPLETED';
    else if (i === stop) nodeStatus = status;
    else nodeStatus = 'INCOMPLETE';
    const nodeId = rng.uuid7(createdAt);
    if (nodeStatus === 'INCOMPLETE' || nodeStatus === 'QUEUED') {
      const queuedAt = nodeStatus === 'QUEUED' ? createdAt : null;
      rows.push([nodeId, id, node.id, nodeStatus, '{}', null, null, 0, null, iso(createdAt), queuedAt === null ? null : iso(queuedAt), null, null]);
      continue;
    }
    const segStart = cursor;
    const isLast = i === reached - 1;
    const segEnd = isLast ? spanEnd : Math.min(spanEnd, segStart + Math.floor(((spanEnd - (startedAt ?? createdAt)) * weights[i]!) / totalWeight));
    cursor = segEnd;
    const nodeStarted = Math.min(segStart + Math.min(50, Math.floor((segEnd - segStart) / 20)), segEnd);
    const finished = nodeStatus === 'COMPLETED' || nodeStatus === 'FAILED' || nodeStatus === 'TERMINATED';
    const io = node.block.run(rng);
    const nodeCost = nodeStatus === 'COMPLETED' ? node.block.cost(rng) : 0;
    cost += nodeCost;
    let stats: string | null = null;
    if (finished) {
      const wall = segEnd - nodeStarted;
      nodesWalltime += wall;
      executed++;
      const llm = node.block.name.startsWith('AI');
      stats = JSON.stringify({
        walltime: seconds(wall),
        cputime: seconds(wall * rng.float(0.01, 0.2)),
        input_size: rng.int(20, 4000),
        output_size: rng.int(0, 8000),
        ...(llm ? { llm_call_count: 1, input_token_count: rng.int(50, 6000), output_token_count: rng.int(10, 1500) } : {}),
        cost: nodeCost,
      });
    }
    rows.push([
      nodeId,
      id,
      node.id,
      nodeStatus,
      JSON.stringify(io.inputs),
      nodeStatus === 'COMPLETED' ? JSON.stringify(io.outputs) : null,
      stats,
      nodeCost,
      nodeStatus === 'FAILED' ? errorMessage : nodeStatus === 'TERMINATED' ? 'Execution terminated by user' : null,
      iso(segStart),
      iso(segStart),
      iso(nodeStarted),
      finished ? iso(segEnd) : null,
    ]);
  }
  const inputs: Record<string, string> = {};
  for (const node of nodes) if (node.block.nodeType === 'INPUT') inputs[node.label] = rng.pick(TOPICS);
  let outputs: string | null = null;
  if (status === 'COMPLETED') {
    const out: Record<string, string[]> = {};
    for (const node of nodes) if (node.block.nodeType === 'OUTPUT') out[node.label] = [rng.pick(SENTENCES)];
    outputs = JSON.stringify(out);
  }
  const stats =
    endedAt === null || startedAt === null
      ? null
      : JSON.stringify({
          cost,
          walltime: seconds(endedAt - startedAt),
          cputime: seconds((endedAt - startedAt) * rng.float(0.02, 0.3)),
          node_count: executed,
          nodes_walltime: seconds(nodesWalltime),
          error: errorMessage,
        });
  const isDeleted = status !== 'RUNNING' && status !== 'QUEUED' && rng.chance(0.02);
  const updatedAt = endedAt ?? startedAt ?? createdAt;
  buffer.add('graphExecutions', [
    id,
    graph.id,
    version.version,
    graph.userId,
    status,
    JSON.stringify(inputs),
    outputs,
    stats,
    cost,
    errorMessage,
    isDeleted,
    null,
    iso(createdAt),
    iso(updatedAt),
    startedAt === null ? null : iso(startedAt),
    endedAt === null ? null : iso(endedAt),
  ]);
  rows.forEach((row, i) => buffer.add('nodeExecutions', [...row, graph.userId, iso(createdAt), isDeleted, nodes[i]!.block.id]));
}
