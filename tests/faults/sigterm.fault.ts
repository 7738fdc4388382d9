import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { createPostgresDatabase } from '../helpers/databases.js';
import { createUser } from '../helpers/factories.js';
import { request, sleep, spawnServer, type Outcome, type ServerProcess } from './helpers.js';

/**
 * SIGTERM under load: requests in flight when the signal arrives finish with their answer, new connections are
 * refused afterwards, the process exits 0, and every acknowledged write is in the database.
 */

describe('SIGTERM under load', () => {
  let database: { url: string; drop(): Promise<void> };
  let server: ServerProcess;
  let key: string;
  let graphId: string;

  beforeAll(async () => {
    database = await createPostgresDatabase('agentgraph_sigterm');
    server = await spawnServer({ DATABASE_URL: database.url, MIGRATE_ON_START: '1' });
    const db = await openDatabase({ url: database.url, pgliteDataDir: '', poolMax: 1 });
    key = (await createUser(db)).apiKey;
    await db.close();
    const created = await request(server.url, key, 'createGraph', `mutation { createGraph(input: { name: "sigterm", nodes: [${Array.from({ length: 40 }, (_, i) => `{ key: "n${i}", blockId: "b" }`).join(', ')}] }) { graph { id } } }`, {});
    expect(created.ok, JSON.stringify(created)).toBe(true);
    graphId = created.data.createGraph.graph.id;
  });

  afterAll(async () => {
    if (server?.child.exitCode === null) server.child.kill('SIGKILL');
    await database?.drop();
  });

  it('drains in-flight requests, refuses new connections, exits 0, loses nothing acknowledged', async () => {
    const outcomes: Outcome[] = [];
    let stop = false;
    let signalledAt = 0;
    const worker = async (w: number) => {
      let i = 0;
      let sessionId: string | null = null;
      while (!stop) {
        i += 1;
        let o: Outcome;
        if (!sessionId) {
          o = await request(server.url, key, 'createSession', `mutation { createSession(input: { appName: "sigterm-${w}" }) { session { id } } }`, {});
          if (o.ok) sessionId = o.data.createSession.session.id;
        } else if (i % 2 === 0) {
          // 40 node executions per run: a write that takes a little while.
          o = await request(server.url, key, 'executeGraph', 'mutation($g: ID!) { executeGraph(graphId: $g) { graphExecution { id nodeExecutions(first: 50) { totalCount } } } }', { g: graphId });
        } else {
          o = await request(server.url, key, 'appendSessionEvents', 'mutation($id: ID!, $e: [SessionEventInput!]!) { appendSessionEvents(sessionId: $id, events: $e) { events { id } } }', {
            id: sessionId,
            e: Array.from({ length: 20 }, (_, k) => ({ author: 'agent', clientEventId: `${w}-${i}-${k}`, content: { text: 'x'.repeat(200) } })),
          });
        }
        outcomes.push(o);
        if (signalledAt && !o.ok) break;
      }
    };
    const load = Promise.all(Array.from({ length: 12 }, (_, w) => worker(w)));
    await sleep(4_000);
    signalledAt = Date.now();
    server.child.kill('SIGTERM');
    const exitCode = await server.exited;
    const exitedAt = Date.now();
    stop = true;
    await load;

    // After the exit: new connections are refused.
    const late = await request(server.url, key, 'late', '{ viewer { id } }', {}, 2_000);

    const inFlight = outcomes.filter((o) => o.started < signalledAt && o.started + o.ms > signalledAt);
    const startedBefore = outcomes.filter((o) => o.started < signalledAt);
    const after = outcomes.filter((o) => o.started >= signalledAt);
    const summary = {
      requests: outcomes.length,
      acknowledged: outcomes.filter((o) => o.ok).length,
      inFlightAtSignal: inFlight.length,
      inFlightCompletedOk: inFlight.filter((o) => o.ok).length,
      startedAfterSignal: after.length,
      afterSignalOutcomes: [...new Set(after.map((o) => (o.ok ? 'ok' : o.code ?? o.networkError ?? `HTTP ${o.status}`)))],
      drainMs: exitedAt - signalledAt,
      exitCode,
      lateRequest: late.networkError ?? late.status,
    };
    console.log(`[faults] sigterm: ${JSON.stringify(summary)}`);

    expect(exitCode).toBe(0);
    expect(inFlight.length).toBeGreaterThan(0);
    expect(startedBefore.filter((o) => !o.ok), 'every request started before SIGTERM is answered in full').toEqual([]);
    expect(outcomes.filter((o) => o.status >= 500), 'no 5xx while draining').toEqual([]);
    expect(late.networkError).toBe('ECONNREFUSED');

    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const runIds = outcomes.filter((o) => o.ok && o.op === 'executeGraph').map((o) => o.data.executeGraph.graphExecution.id as string);
      const runs = await client.query<{ id: string; n: number }>('SELECT e.id, (SELECT count(*)::int FROM node_executions n WHERE n.graph_execution_id = e.id) AS n FROM graph_executions e');
      const stored = new Map(runs.rows.map((r) => [r.id, r.n]));
      for (const id of runIds) expect(stored.get(id), `acknowledged run ${id}`).toBe(40);
      for (const [id, n] of stored) expect(n, `run ${id} half-written`).toBe(40);
      const eventIds = outcomes.filter((o) => o.ok && o.op === 'appendSessionEvents').flatMap((o) => o.data.appendSessionEvents.events.map((e: { id: string }) => e.id));
      const events = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM session_events WHERE id = ANY($1::uuid[])', [eventIds]);
      expect(events.rows[0]!.n).toBe(eventIds.length);
      const torn = await client.query(`SELECT s.id FROM sessions s LEFT JOIN session_events e ON e.session_id = s.id GROUP BY s.id HAVING s.last_sequence <> count(e.id)`);
      expect(torn.rows).toEqual([]);
      console.log(`[faults] sigterm: verified ${runIds.length} acknowledged runs and ${eventIds.length} events in the database`);
    } finally {
      await client.end();
    }
  });
});
