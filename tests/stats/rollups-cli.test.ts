import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prisma } from '../../src/generated/prisma/client.js';
import { markRollupsIncomplete } from '../../src/modules/stats/rollup-backfill.js';
import { foldAllChanges } from '../../src/modules/stats/rollup-folder.js';
import { createGraph, createRun } from '../helpers/factories.js';
import { testDatabaseKinds } from '../helpers/databases.js';
import { runCliOn } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const runStats = (databaseUrl: string, args: string[]) => runCliOn(databaseUrl, 'stats.ts', args);

// The commands work on any database the server does; PostgreSQL is the one another process can open alongside.
describe.runIf(testDatabaseKinds.includes('postgres'))('npm run stats:verify and stats:backfill', () => {
  let server: TestServer;
  let url: string;
  beforeAll(async () => {
    server = await startTestServer({ database: 'postgres' });
    url = (server.db as { url: string }).url;
    const { graph } = await createGraph(server.db, server.userId, { name: 'cli' });
    for (let i = 0; i < 5; i++) {
      await createRun(server.db, { graphId: graph.id, version: 1, userId: server.userId, status: i % 2 ? 'COMPLETED' : 'RUNNING', startedAt: new Date(Date.now() - 60_000), cost: i });
    }
  });
  afterAll(() => server?.close());
  const sql = (statement: Prisma.Sql) => server.db.sql.query(statement, { prepare: false });

  it('verify finds the rollups equal to the rows, then names a difference and exits 1', async () => {
    const ok = await runStats(url, ['verify']);
    expect(ok.stdout, ok.stderr).toMatch(/Rollups match the rows: \d+ rollup rows compared/);
    expect(ok.code).toBe(0);
    await foldAllChanges(server.db.sql);
    await sql(Prisma.sql`UPDATE run_rollups SET runs = runs + 1 WHERE span = 1440 AND status = 'RUNNING'`);
    const bad = await runStats(url, ['verify', '--from', '2001-01-01', '--to', new Date(Date.now() + 86_400_000).toISOString()]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/run_rollups \{"span":1440,.*"status":"RUNNING"\}: rollups \{.*"runs":\d+.*\}, rows \{.*"runs":\d+.*\}/);
    await sql(Prisma.sql`UPDATE run_rollups SET runs = runs - 1 WHERE span = 1440 AND status = 'RUNNING'`);
  });

  it('backfill counts rows stored before the rollups; verify then agrees; bad arguments exit 2', async () => {
    await markRollupsIncomplete(server.db.sql);
    await sql(Prisma.sql`UPDATE graph_executions SET in_rollups = false`);
    await sql(Prisma.sql`UPDATE node_executions SET in_rollups = false`);
    const filled = await runStats(url, ['backfill', '--batch', '2']);
    expect(filled.stdout, filled.stderr).toMatch(/Back-fill complete: 5 runs and \d+ node executions counted/);
    expect(filled.code).toBe(0);
    expect((await runStats(url, ['verify'])).code).toBe(0);
    const wrong = await runStats(url, ['verify', '--from', 'yesterday']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/--from takes an ISO date/);
  });
});
