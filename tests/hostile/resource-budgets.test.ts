import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database.js';
import { applyMigrations } from '../../src/db/migrations.js';
import { createServer, type AppServer } from '../../src/server/app.js';
import { createPostgresDatabase } from '../helpers/databases.js';
import { createGraph, createUser } from '../helpers/factories.js';
import { codesOf } from './harness.js';

/**
 * Budgets that end work already running, on PostgreSQL (PGlite runs in-process: a statement there cannot outlive the
 * request's event loop turn, and it has no second session to hold a lock): the statement timeout and the request
 * deadline, and errors of compiled (graphql-jit) and hot executions coded, masked and logged as Apollo's own are.
 * A table lock held by another session stands in for a slow statement: the request's statement waits on it.
 */
describe('budgets on running work (PostgreSQL)', () => {
  let created: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let db: Database;
  let slowDb: Database;
  let apiKey: string;
  const logLines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) });
  const servers: AppServer[] = [];

  const start = async (database: Database, requestTimeoutMs: number) => {
    const server = await createServer({ db: database, log, apiKeyCacheMs: 60_000, compileAfterUses: 0, requestTimeoutMs });
    servers.push(server);
    return (await server.listen(0, '127.0.0.1')).url;
  };
  const post = async (url: string, query: string) => {
    const started = performance.now();
    const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` }, body: JSON.stringify({ query }) });
    const json = (await res.json()) as { data?: unknown; errors?: Array<{ message: string; path?: unknown[]; extensions: { code: string } }> };
    return { status: res.status, json, ms: performance.now() - started };
  };
  /** Runs `during` while another session holds an exclusive lock on `graphs`. */
  const withGraphsLocked = async <T>(during: () => Promise<T>): Promise<T> => {
    const locker = new pg.Client({ connectionString: created.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE graphs IN ACCESS EXCLUSIVE MODE');
      return await during();
    } finally {
      await locker.query('ROLLBACK').catch(() => {});
      await locker.end();
    }
  };

  beforeAll(async () => {
    created = await createPostgresDatabase();
    db = await openDatabase({ url: created.url, pgliteDataDir: '', poolMax: 4, statementTimeoutMs: 300 });
    await applyMigrations(db);
    slowDb = await openDatabase({ url: created.url, pgliteDataDir: '', poolMax: 4, statementTimeoutMs: 10_000 });
    const user = await createUser(db);
    apiKey = user.apiKey;
    await createGraph(db, user.user.id, { name: 'budgeted' });
  });
  afterAll(async () => {
    for (const server of servers) await server.stop();
    await db?.close();
    await slowDb?.close();
    await created?.drop();
  });

  const pool = () => (db as Extract<Database, { kind: 'postgres' }>).pool;
  const QUERY = '{ graphs(first: 5) { nodes { id name } } }';

  it('a statement past statement_timeout is cancelled and answered DEADLINE_EXCEEDED at its path, on every execution path', async () => {
    const url = await start(db, 15_000);
    expect((await post(url, QUERY)).json.errors).toBeUndefined(); // compiled from the first use; hot from the second
    await withGraphsLocked(async () => {
      for (let i = 0; i < 3; i++) {
        const res = await post(url, QUERY);
        expect(res.ms).toBeLessThan(3_000);
        expect(codesOf(res.json)).toEqual(['DEADLINE_EXCEEDED']);
        expect(res.json.errors![0]!.path).toEqual(['graphs']);
      }
    });
    expect((await post(url, QUERY)).json.errors).toBeUndefined();
    expect(logLines.filter((line) => line.msg === 'statement timeout').length).toBeGreaterThanOrEqual(3);
  });

  it('a request past its deadline is answered 503 DEADLINE_EXCEEDED while its statement still waits', async () => {
    const url = await start(slowDb, 400);
    expect((await post(url, QUERY)).json.errors).toBeUndefined();
    await withGraphsLocked(async () => {
      for (let i = 0; i < 2; i++) {
        const res = await post(url, QUERY);
        expect(res.status).toBe(503);
        expect(codesOf(res.json)).toEqual(['DEADLINE_EXCEEDED']);
        expect(res.ms).toBeLessThan(2_000);
      }
    });
    expect((await post(url, QUERY)).json.errors).toBeUndefined();
  });

  it('an internal error of a compiled or hot execution is masked with its path and logged with its cause', async () => {
    const url = await start(db, 15_000);
    expect((await post(url, QUERY)).json.errors).toBeUndefined();
    const logged = logLines.length;
    await pool().query('ALTER TABLE graphs RENAME COLUMN name TO name_renamed');
    try {
      for (let i = 0; i < 3; i++) {
        const res = await post(url, QUERY);
        expect(res.json.errors).toHaveLength(1);
        expect(res.json.errors![0]).toMatchObject({ message: 'Internal server error', path: ['graphs'], extensions: { code: 'INTERNAL_SERVER_ERROR' } });
      }
    } finally {
      await pool().query('ALTER TABLE graphs RENAME COLUMN name_renamed TO name');
    }
    const internal = logLines.slice(logged).filter((line) => line.msg === 'internal error');
    expect(internal).toHaveLength(3);
    expect(JSON.stringify(internal[0]!.err)).toContain('name');
  });
});
