import { isListType, isNonNullType, isObjectType, type GraphQLField, type GraphQLSchema, type GraphQLOutputType } from 'graphql';
import { BLOCK_SCHEMA_LIMITS } from '../../modules/blocks/block-definition.js';
import { MAX_GRAPH_PROBLEMS } from '../../modules/blocks/graph-rules.js';
import { GRAPH_LIMITS } from '../../modules/graphs/graph-validation.js';
import { MAX_EVENTS_PER_APPEND } from '../../modules/sessions/session-service.js';
import { dayCellsRead, rollupCellsRead, type RollupCellCounts } from '../../modules/stats/rollup-cells.js';
import { MAX_BUCKETS, MAX_LIMIT as MAX_STATS_LIMIT, MAX_RANGE_DAYS } from '../../modules/stats/stats-service.js';

/**
 * What a field costs beyond being one field of one object, declared once per `Type.field` (operation-cost.ts reads it).
 * Unit: one field resolved for one object. Measured on this machine, 1,000 units are about a millisecond of the
 * server's CPU for plain reads, which calibrates the weights of fields whose work is a scan rather than objects.
 *
 * Every plain list of objects in the schema must be declared here: the server refuses to start otherwise
 * (assertEveryListBounded), so a new list field cannot slip through the cost model as "1". Connections need no entry:
 * their `edges`/`nodes` hold the page the connection field asked for (`first`/`last`, default 20, at most 100).
 */
export type Arguments = Record<string, unknown>;

export type ListBound = {
  /** Items per parent object at most (the schema's or validation's maximum). */
  max: number;
  /** An argument that limits the list (`limit: 5`); its schema default applies when it is omitted. */
  limitArgument?: string;
  /** A tighter size computed from this field's arguments and its parent field's (e.g. buckets of a time range). */
  sizeOf?(args: Arguments, parentArgs: Arguments): number | null;
  /**
   * Items summed over all the objects of the list `via` (Type.field) are at most `max` per object owning that list:
   * a graph has at most 2,000 links, however they are spread over its 500 nodes' `inputLinks`.
   */
  pooledUnder?: { via: string; max: number };
};

/** Who asks, where a field's work depends on it (an ADMIN's statistics over every user read the rollups). */
export type CostCaller = { admin: boolean };

export type FieldCost = {
  list?: ListBound;
  /**
   * Work besides the field itself (a scan, a count), in units; a function of the field's arguments, its parent field's
   * and the caller (declare `byCaller` then).
   */
  weight?: number | ((args: Arguments, parentArgs: Arguments, caller: CostCaller) => number);
  /** The weight depends on the caller: the operation's cost is then known only once the request is authenticated. */
  byCaller?: true;
};

/** A JSON value (inputs, outputs, state, event content): up to 64 KB each to read, copy and serialize. */
export const JSON_VALUE_WEIGHT = 50;
/** A count(*) over a filtered range (index-only, but it reads every matching row). */
export const TOTAL_COUNT_WEIGHT = 1_000;
/** A jsonb containment filter reads the caller's rows without an index on the JSON. */
const JSON_FILTER_WEIGHT = 1_000;

const DAY_MS = 86_400_000;

function rangeDays(from: unknown, to: unknown): number {
  const start = typeof from === 'string' || from instanceof Date ? new Date(from).getTime() : NaN;
  const end = typeof to === 'string' || to instanceof Date ? new Date(to).getTime() : NaN;
  if (!Number.isFinite(start) || !Number.isFinite(end) || end <= start) return MAX_RANGE_DAYS;
  return Math.min(MAX_RANGE_DAYS, Math.ceil((end - start) / DAY_MS));
}

const record = (value: unknown): Arguments => (typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Arguments) : {});

/**
 * Statistics read row by row scan the runs (and node executions) of their range: priced by the days they cover. So
 * is one graph's long range read from its rollups (graph-quarters.ts): per day, a day of quarter-hour rows where it is
 * busy, else fewer runs than a busy day has.
 */
const STATS_UNITS_PER_DAY = 20;

const BUCKET_HOURS: Record<string, number> = { HOUR: 1, DAY: 24, WEEK: 168 };

function timeSeriesSize(_args: Arguments, parentArgs: Arguments): number | null {
  const filter = record(parentArgs.filter);
  const hoursPerBucket = BUCKET_HOURS[String(parentArgs.bucket ?? 'DAY')];
  if (!hoursPerBucket) return null;
  // Two more for partial buckets at both ends (and a DST day).
  return Math.ceil((rangeDays(filter.from, filter.to) * 24) / hoursPerBucket) + 2;
}

/**
 * Statistics over every user's runs (an ADMIN without `userId` or `graphId`) read rollup rows: priced by the spans
 * they read (src/modules/stats/rollup-cells.ts), per span size, and the raw rows of the partial 15 minutes at the
 * edges. Units per span read, measured on the benchmark's data (bench/stats): a week's row holds every status and
 * its duration bins, a graph ranking reads one row per graph with runs in the span.
 */
type CellUnits = { quarter: number; day: number; week: number; fringe: number };
const RUN_CELL_UNITS: CellUnits = { quarter: 10, day: 50, week: 80, fringe: 200 };
/** A graph ranking reads days and weeks (one row per graph with runs) and, per partial day, its candidates' runs. */
const GRAPH_CELL_UNITS: CellUnits = { quarter: 0, day: 500, week: 1_500, fringe: 2_000 };
const BLOCK_CELL_UNITS: CellUnits = { quarter: 30, day: 60, week: 80, fringe: 500 };

const readsRollups = (filter: Arguments, caller: CostCaller) => caller.admin && !filter.userId && !filter.graphId;

const cellUnits = (cells: RollupCellCounts, units: CellUnits) =>
  cells.quarters * units.quarter + cells.days * units.day + cells.weeks * units.week + cells.fringes * units.fringe;

/** `executionStats(args)`'s range in epoch ms (NaN for what it refuses). */
function rangeOf(statsArgs: Arguments): { from: number; to: number } {
  const filter = record(statsArgs.filter);
  return { from: new Date(String(filter.from)).getTime(), to: new Date(String(filter.to)).getTime() };
}

/** The spans a statistics field of `executionStats(args)` reads: its whole range, or its time series' buckets. */
function cellsOf(statsArgs: Arguments, series: boolean): RollupCellCounts {
  const { from, to } = rangeOf(statsArgs);
  const cells = rollupCellsRead(from, to, series ? { bucket: String(statsArgs.bucket ?? 'DAY'), timezone: String(statsArgs.timezone ?? 'UTC') } : null);
  // Arguments `executionStats` refuses (BAD_USER_INPUT) before it reads anything.
  return cells ?? { quarters: 0, days: 0, weeks: 0, fringes: 0 };
}

const rollupWeight = (statsArgs: Arguments, caller: CostCaller, units: CellUnits, series = false) =>
  readsRollups(record(statsArgs.filter), caller) ? cellUnits(cellsOf(statsArgs, series), units) : 0;

/** The graph ranking reads whole days and weeks, and raw runs of the partial days (rollup-cells.ts, planDays). */
function rankingWeight(statsArgs: Arguments, caller: CostCaller): number {
  if (!readsRollups(record(statsArgs.filter), caller)) return 0;
  const { from, to } = rangeOf(statsArgs);
  const cells = dayCellsRead(from, to);
  return cells ? cellUnits(cells, GRAPH_CELL_UNITS) : 0;
}

const statsWeight = (args: Arguments, _parentArgs: Arguments, caller: CostCaller) =>
  readsRollups(record(args.filter), caller)
    ? cellUnits(cellsOf(args, false), RUN_CELL_UNITS)
    : STATS_UNITS_PER_DAY * rangeDays(record(args.filter).from, record(args.filter).to);

const nodeFiguresWeight = (_args: Arguments, parentArgs: Arguments, caller: CostCaller) => rollupWeight(parentArgs, caller, BLOCK_CELL_UNITS);

const sessionsWeight = (args: Arguments) => (record(args.filter).metadataContains !== undefined && record(args.filter).metadataContains !== null ? JSON_FILTER_WEIGHT : 0);

export const FIELD_COSTS: Readonly<Record<string, FieldCost>> = {
  'Graph.nodes': { list: { max: GRAPH_LIMITS.nodes } },
  'Block.inputPorts': { list: { max: BLOCK_SCHEMA_LIMITS.ports } },
  // Checking a graph reads its nodes, links and blocks and validates every default: priced like a page of nodes.
  'Graph.problems': { list: { max: MAX_GRAPH_PROBLEMS }, weight: GRAPH_LIMITS.nodes },
  'Block.outputPorts': { list: { max: BLOCK_SCHEMA_LIMITS.ports } },
  'Graph.links': { list: { max: GRAPH_LIMITS.links } },
  'Node.inputLinks': { list: { max: GRAPH_LIMITS.links, pooledUnder: { via: 'Graph.nodes', max: GRAPH_LIMITS.links } } },
  'Node.outputLinks': { list: { max: GRAPH_LIMITS.links, pooledUnder: { via: 'Graph.nodes', max: GRAPH_LIMITS.links } } },
  'AppendSessionEventsPayload.events': { list: { max: MAX_EVENTS_PER_APPEND } },
  'Query.executionStats': { weight: statsWeight, byCaller: true },
  'Graph.stats': { weight: (args: Arguments) => Math.ceil((STATS_UNITS_PER_DAY / 4) * rangeDays(args.from, args.to)) },
  'ExecutionStats.byStatus': { list: { max: 7 } },
  'ExecutionStats.timeSeries': {
    list: { max: MAX_BUCKETS, sizeOf: timeSeriesSize },
    weight: (_args, parentArgs, caller) => rollupWeight(parentArgs, caller, RUN_CELL_UNITS, true),
    byCaller: true,
  },
  'ExecutionStats.topGraphs': {
    list: { max: MAX_STATS_LIMIT, limitArgument: 'limit' },
    weight: (_args, parentArgs, caller) => rankingWeight(parentArgs, caller),
    byCaller: true,
  },
  'ExecutionStats.blocks': { list: { max: MAX_STATS_LIMIT, limitArgument: 'limit' }, weight: nodeFiguresWeight, byCaller: true },
  'ExecutionStats.nodeExecutions': { weight: nodeFiguresWeight, byCaller: true },
  'ExecutionStats.failedNodeExecutions': { weight: nodeFiguresWeight, byCaller: true },
  'Query.sessions': { weight: sessionsWeight },
  'User.sessions': { weight: sessionsWeight },
  // A search reads every user's email and name (no index serves "contains").
  'Query.users': { weight: (args) => (record(args.filter).search ? TOTAL_COUNT_WEIGHT : 0) },
};

function unwrap(type: GraphQLOutputType): { list: boolean; named: GraphQLOutputType } {
  let t = type;
  let list = false;
  for (;;) {
    if (isNonNullType(t)) t = t.ofType;
    else if (isListType(t)) {
      list = true;
      t = t.ofType;
    } else return { list, named: t };
  }
}

export const isConnectionType = (name: string) => name.endsWith('Connection');

/** Plain lists of objects the cost model has no bound for (connections' edges/nodes are bounded by their page). */
function unboundedLists(schema: GraphQLSchema): string[] {
  const missing: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__') || isConnectionType(type.name)) continue;
    for (const field of Object.values(type.getFields()) as Array<GraphQLField<unknown, unknown>>) {
      const { list, named } = unwrap(field.type);
      if (list && isObjectType(named) && !FIELD_COSTS[`${type.name}.${field.name}`]?.list) missing.push(`${type.name}.${field.name}`);
    }
  }
  return missing;
}

export function assertEveryListBounded(schema: GraphQLSchema): void {
  const missing = unboundedLists(schema);
  if (missing.length) throw new Error(`List fields without a bound in src/server/cost/field-costs.ts: ${missing.join(', ')}`);
}

/** Bounds of the introspection lists, from the schema itself (its type count, the most fields of a type, …). */
export function introspectionCosts(schema: GraphQLSchema): Record<string, FieldCost> {
  const types = Object.values(schema.getTypeMap());
  const most = (count: (t: (typeof types)[number]) => number) => Math.max(1, ...types.map(count));
  const fieldsOf = (t: (typeof types)[number]) => ('getFields' in t ? Object.values(t.getFields()) : []) as Array<{ args?: readonly unknown[] }>;
  const maxFields = most((t) => fieldsOf(t).length);
  const totalFields = types.reduce((sum, t) => sum + fieldsOf(t).length, 0);
  const argsOfType = (t: (typeof types)[number]) => fieldsOf(t).reduce((sum, f) => sum + (f.args?.length ?? 0), 0);
  const maxArgs = Math.max(1, ...types.flatMap((t) => fieldsOf(t).map((f) => f.args?.length ?? 0)), ...schema.getDirectives().map((d) => d.args.length));
  const maxArgsOfType = Math.max(1, ...types.map(argsOfType));
  const maxEnumValues = most((t) => ('getValues' in t ? t.getValues().length : 0));
  const totalEnumValues = types.reduce((sum, t) => sum + ('getValues' in t ? t.getValues().length : 0), 0);
  const maxInterfaces = most((t) => ('getInterfaces' in t ? t.getInterfaces().length : 0));
  const maxPossible = most((t) => ('getTypes' in t ? t.getTypes().length : 0));
  // The schema's types hold `totalFields` fields between them, however a query spreads them: pooled like a graph's links.
  return {
    '__Schema.types': { list: { max: types.length } },
    '__Schema.directives': { list: { max: schema.getDirectives().length } },
    '__Type.fields': { list: { max: maxFields, pooledUnder: { via: '__Schema.types', max: totalFields } } },
    '__Type.inputFields': { list: { max: maxFields, pooledUnder: { via: '__Schema.types', max: totalFields } } },
    '__Type.enumValues': { list: { max: maxEnumValues, pooledUnder: { via: '__Schema.types', max: totalEnumValues } } },
    '__Type.interfaces': { list: { max: maxInterfaces } },
    '__Type.possibleTypes': { list: { max: maxPossible } },
    '__Field.args': { list: { max: maxArgs, pooledUnder: { via: '__Type.fields', max: maxArgsOfType } } },
    '__Directive.args': { list: { max: maxArgs } },
  };
}
