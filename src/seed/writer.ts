/**
 * Bulk row writing for the seeder: rows are encoded straight into PostgreSQL's COPY text format and sent in
 * chunks — `COPY … FROM STDIN` (pg-copy-streams) on PostgreSQL, `COPY … FROM '/dev/blob'` on PGlite. Tables
 * are flushed in foreign-key order, so every chunk only references rows of earlier chunks or earlier tables.
 */
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Transaction } from '@electric-sql/pglite';
import type { ModelTable } from '../db/columns.js';
import { API_KEY_TABLE } from '../modules/auth/columns.js';
import { GRAPH_EXECUTION_TABLE, NODE_EXECUTION_TABLE } from '../modules/executions/columns.js';
import { GRAPH_TABLE, LINK_TABLE, NODE_TABLE } from '../modules/graphs/columns.js';
import { SESSION_EVENT_TABLE, SESSION_TABLE } from '../modules/sessions/columns.js';
import { USER_TABLE } from '../modules/users/columns.js';

/** A value of one column: JSON columns are passed already serialized, timestamps as ISO strings. */
export type Cell = string | number | boolean | null;

export type TableSpec = { name: string; columns: readonly string[] };

/** The model fields the seeder writes, in the order of its rows' cells; the columns come from the model's declaration. */
const copyOf = <Model>(table: ModelTable<Model>, keys: ReadonlyArray<keyof Model & string>): TableSpec => ({ name: table.table, columns: table.columnNames(keys) });

/** In foreign-key order. */
export const TABLES = {
  users: copyOf(USER_TABLE, ['id', 'email', 'name', 'metadata', 'createdAt', 'updatedAt']),
  apiKeys: copyOf(API_KEY_TABLE, ['id', 'userId', 'name', 'prefix', 'secretHash', 'permissions', 'status', 'createdAt', 'lastUsedAt', 'revokedAt']),
  graphs: copyOf(GRAPH_TABLE, ['id', 'version', 'name', 'description', 'isActive', 'userId', 'blocksChecked', 'isTemplate', 'runnableRevision', 'createdAt', 'updatedAt']),
  nodes: copyOf(NODE_TABLE, ['id', 'graphId', 'graphVersion', 'blockId', 'label', 'nodeType', 'inputDefault', 'metadata']),
  links: copyOf(LINK_TABLE, ['id', 'graphId', 'graphVersion', 'sourceId', 'sinkId', 'sourceName', 'sinkName', 'isStatic']),
  graphExecutions: copyOf(GRAPH_EXECUTION_TABLE, [
    'id', 'graphId', 'graphVersion', 'userId', 'status', 'inputs', 'outputs', 'stats', 'cost', 'errorMessage', 'isDeleted',
    'parentId', 'createdAt', 'updatedAt', 'startedAt', 'endedAt',
  ]),
  nodeExecutions: copyOf(NODE_EXECUTION_TABLE, [
    'id', 'graphExecutionId', 'nodeId', 'status', 'inputs', 'outputs', 'stats', 'cost', 'errorMessage', 'addedAt', 'queuedAt',
    'startedAt', 'endedAt',
    // Copies of the run's and node's fields (see the node_execution_stats_copies migration); supplied here so the
    // fill trigger is skipped.
    'userId', 'runCreatedAt', 'runIsDeleted', 'blockId',
  ]),
  sessions: copyOf(SESSION_TABLE, [
    'id', 'appName', 'userId', 'agentId', 'status', 'metadata', 'state', 'teamSessionId', 'version', 'lastSequence', 'createdAt', 'updatedAt',
  ]),
  sessionEvents: copyOf(SESSION_EVENT_TABLE, [
    'id', 'sessionId', 'sequence', 'invocationId', 'agentId', 'author', 'content', 'actions', 'metadata', 'branch', 'timestamp', 'clientEventId',
  ]),
} as const;

export type TableName = keyof typeof TABLES;
const TABLE_ORDER = Object.keys(TABLES) as TableName[];

const SPECIAL = /[\\\t\n\r]/;
const SPECIAL_ALL = /[\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** One value in COPY text format. */
export function encodeCell(value: Cell): string {
  if (value === null) return '\\N';
  if (typeof value === 'string') return SPECIAL.test(value) ? value.replace(SPECIAL_ALL, (c) => ESCAPES[c]!) : value;
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (!Number.isFinite(value)) throw new Error(`cannot write ${value} to the database`);
  return String(value);
}

export function encodeRow(row: readonly Cell[]): string {
  let line = encodeCell(row[0] ?? null);
  for (let i = 1; i < row.length; i++) line += '\t' + encodeCell(row[i]!);
  return line + '\n';
}

/** Where encoded chunks go: one COPY of `text` (complete lines) into `table`. */
export interface CopyTarget {
  copy(table: TableSpec, lines: string[]): Promise<void>;
}

function copySql(table: TableSpec, source: string): string {
  return `COPY ${table.name} (${table.columns.map((c) => `"${c}"`).join(', ')}) FROM ${source}`;
}

/** One `COPY … FROM STDIN` through `client`, consuming `lines` (complete encoded lines) lazily as it streams. */
export async function copyToPostgres(client: Pick<PoolClient, 'query'>, table: TableSpec, lines: Iterable<string>): Promise<void> {
  const stream = client.query(copyFrom(copySql(table, 'STDIN')));
  const done = new Promise<void>((resolve, reject) => {
    stream.on('finish', resolve);
    stream.on('error', reject);
  });
  // Roughly 1 MB per write; respect back-pressure.
  let piece = '';
  for (const line of lines) {
    piece += line;
    if (piece.length >= 1 << 20) {
      if (!stream.write(piece)) await new Promise<void>((resolve) => stream.once('drain', resolve));
      piece = '';
    }
  }
  stream.end(piece);
  await done;
}

/** Streams into PostgreSQL through one client (which the caller keeps inside a transaction). */
export function postgresCopyTarget(client: PoolClient): CopyTarget {
  return { copy: (table, lines) => copyToPostgres(client, table, lines) };
}

/** PGlite reads COPY data from an in-memory blob. */
export function pgliteCopyTarget(tx: Pick<Transaction, 'query'>): CopyTarget {
  return {
    async copy(table, lines) {
      await tx.query(copySql(table, `'/dev/blob'`), [], { blob: new Blob(lines) });
    },
  };
}

/**
 * Collects encoded rows per table and flushes them in foreign-key order once `chunkBytes` are buffered.
 * A flush runs while the generator keeps producing the next chunk (one chunk in flight at a time).
 */
export class RowBuffer {
  private readonly buffers = new Map<TableName, { lines: string[]; bytes: number }>();
  private bytes = 0;
  private inFlight: Promise<void> = Promise.resolve();
  readonly counts: Record<TableName, number> = Object.fromEntries(TABLE_ORDER.map((name) => [name, 0])) as Record<TableName, number>;

  constructor(
    private readonly target: CopyTarget,
    private readonly chunkBytes: number,
  ) {}

  add(table: TableName, row: readonly Cell[]): void {
    if (row.length !== TABLES[table].columns.length) throw new Error(`row for ${table} has ${row.length} cells`);
    const line = encodeRow(row);
    let buffer = this.buffers.get(table);
    if (!buffer) this.buffers.set(table, (buffer = { lines: [], bytes: 0 }));
    buffer.lines.push(line);
    buffer.bytes += line.length;
    this.bytes += line.length;
    this.counts[table]++;
  }

  /** Call between logical units (never in the middle of rows that reference each other across tables). */
  async maybeFlush(): Promise<void> {
    if (this.bytes >= this.chunkBytes) await this.flush();
  }

  async flush(): Promise<void> {
    const chunk = TABLE_ORDER.flatMap((name) => {
      const buffer = this.buffers.get(name);
      return buffer && buffer.lines.length > 0 ? [{ table: TABLES[name], lines: buffer.lines }] : [];
    });
    this.buffers.clear();
    this.bytes = 0;
    const previous = this.inFlight;
    await previous;
    this.inFlight = (async () => {
      for (const { table, lines } of chunk) await this.target.copy(table, lines);
    })();
    // Keep the rejection observed; it is rethrown by the next flush or by finish().
    this.inFlight.catch(() => {});
  }

  async finish(): Promise<void> {
    await this.flush();
    await this.inFlight;
  }
}
