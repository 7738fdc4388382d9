import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { percentile, request, serverOnPrivatePostgres, sleep, type Outcome, type PrivatePostgres, type ServerProcess } from './helpers.js';

/**
 * A hung PostgreSQL under a steady light load, on a private instance: the postmaster and every backend are
 * SIGSTOPped for 15 s, then SIGCONTinued. Unlike a stopped database (outage.fault.ts), connections are not refused:
 * the kernel still completes TCP handshakes and queues bytes, and nothing ever answers. Every request made meanwhile
 * must answer within a few seconds with SERVICE_UNAVAILABLE (the server's statement, query and connection-acquire
 * timeouts), /health answers 503, the server recovers by itself after SIGCONT, and every acknowledged write is stored.
 */

const FREEZE_MS = 15_000;
const BEFORE_MS = 6_000;
const AFTER_MS = 10_000;
/** Every request made while the database is hung answers within this. */
const ANSWER_WITHIN_MS = 8_000;
/** Requests succeed again within this after SIGCONT. */
const RECOVER_WITHIN_MS = 10_000;
/** Client-side timeout: far above the freeze, so a request that hangs is measured, not cut off. */
const CLIENT_TIMEOUT_MS = 40_000;

type Timed = Outcome & { phase: 'before' | 'frozen' | 'after' };

describe('PostgreSQL hung (SIGSTOP)', () => {
  let postgres: PrivatePostgres;
  let server: ServerProcess;
  let key: string;
  let graphId: string;
  let url: string;

  beforeAll(async () => {
    ({ postgres, server, url, key, graphId } = await serverOnPrivatePostgres('agentgraph_hung'));
  }, 120_000);

  afterAll(async () => {
    // Whatever happened: continue the instance first (a stopped postmaster never acts on pg_ctl's signal), then stop
    // the server and the instance.
    postgres?.thaw();
    if (server && server.child.exitCode === null && server.child.signalCode === null) {
      server.child.kill('SIGTERM');
      const exited = await Promise.race([server.exited, sleep(15_000).then(() => 'timeout')]);
      if (exited === 'timeout') {
        server.child.kill('SIGKILL');
        await server.exited;
      }
    }
    await postgres?.destroy();
  }, 60_000);

  it('answers SERVICE_UNAVAILABLE within seconds while the database hangs, recovers after SIGCONT, loses no acknowledged write', { timeout: 180_000 }, async () => {
    const outcomes: Timed[] = [];
    const health: Array<{ at: number; status: number; ms: number }> = [];
    let phase: Timed['phase'] = 'before';
    let stop = false;
    let frozenAt = 0;
    let thawedAt = 0;

    // Steady light load: three writers (runs and their status, sessions and their events) and a reader.
    const send = async (op: string, query: string, variables: unknown) => {
      const current = phase;
      const outcome = await request(server.url, key, op, query, variables, CLIENT_TIMEOUT_MS);
      outcomes.push({ ...outcome, phase: current });
      return outcome;
    };
    const writer = async (w: number) => {
      let sessionId: string | null = null;
      for (let i = 1; !stop; i++) {
        let outcome: Outcome;
        if (!sessionId || i % 10 === 0) {
          outcome = await send('createSession', `mutation { createSession(input: { appName: "hung-${w}" }) { session { id } } }`, {});
          if (outcome.ok) sessionId = outcome.data.createSession.session.id;
        } else if (i % 3 === 0) {
          outcome = await send('executeGraph', 'mutation($g: ID!) { executeGraph(graphId: $g) { graphExecution { id } } }', { g: graphId });
          if (outcome.ok) {
            outcome = await send('updateGraphExecution', 'mutation($id: ID!) { updateGraphExecution(id: $id, status: RUNNING) { graphExecution { id status } } }', {
              id: outcome.data.executeGraph.graphExecution.id,
            });
          }
        } else {
          outcome = await send('appendSessionEvents', 'mutation($id: ID!, $e: [SessionEventInput!]!) { appendSessionEvents(sessionId: $id, events: $e) { events { id sequence } } }', {
            id: sessionId,
            e: Array.from({ length: 3 }, (_, k) => ({ author: 'agent', clientEventId: `w${w}-${i}-${k}`, content: { i, k } })),
          });
        }
        await sleep(outcome.ok ? 100 : 200);
      }
    };
    const reader = async () => {
      while (!stop) {
        const outcome = await send('graphs', 'query { graphs(first: 10) { nodes { id name executions(first: 5) { nodes { id status } } } } }', {});
        await sleep(outcome.ok ? 150 : 200);
      }
    };
    // /health once a second, open loop (a probe that hangs does not hold back the next one).
    const healthProbe = async () => {
      const probes: Promise<void>[] = [];
      while (!stop) {
        const started = Date.now();
        probes.push(
          fetch(`${server.url}/health`, { signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS) })
            .then(async (res) => {
              await res.arrayBuffer();
              health.push({ at: started, status: res.status, ms: Date.now() - started });
            })
            .catch(() => void health.push({ at: started, status: 0, ms: Date.now() - started })),
        );
        await sleep(1_000);
      }
      await Promise.all(probes);
    };
    const load = Promise.all([writer(1), writer(2), writer(3), reader(), healthProbe()]);

    let frozenPids: number[] = [];
    try {
      await sleep(BEFORE_MS);
      frozenAt = Date.now();
      phase = 'frozen';
      frozenPids = postgres.freeze();
      await sleep(FREEZE_MS);
    } finally {
      postgres.thaw();
      thawedAt = Date.now();
      phase = 'after';
    }
    // Recovery: the first request started after SIGCONT that succeeds.
    let recoveredAt = 0;
    while (!recoveredAt && Date.now() - thawedAt < RECOVER_WITHIN_MS + CLIENT_TIMEOUT_MS) {
      await sleep(100);
      const first = outcomes.filter((o) => o.ok && o.started >= thawedAt).sort((a, b) => a.started + a.ms - (b.started + b.ms))[0];
      if (first) recoveredAt = first.started + first.ms;
    }
    await sleep(AFTER_MS);
    stop = true;
    await load;

    // ---- figures ----
    const label = (o: Outcome) => (o.ok ? 'ok' : (o.code ?? (o.networkError ? `network:${o.networkError}` : `HTTP ${o.status}`)));
    const count = (list: Outcome[]) => list.reduce<Record<string, number>>((acc, o) => ((acc[label(o)] = (acc[label(o)] ?? 0) + 1), acc), {});
    // Made while the database hung (started after SIGSTOP, before SIGCONT), and in flight at SIGSTOP.
    const made = outcomes.filter((o) => o.started >= frozenAt && o.started < thawedAt);
    const inFlightAtFreeze = outcomes.filter((o) => o.started < frozenAt && o.started + o.ms > frozenAt);
    // Made early enough in the freeze that they had to be answered before SIGCONT.
    const answeredBeforeThaw = made.filter((o) => o.started + ANSWER_WITHIN_MS <= thawedAt);
    const healthMade = health.filter((h) => h.at >= frozenAt + 500 && h.at + ANSWER_WITHIN_MS <= thawedAt);
    const slowest = [...made].sort((a, b) => b.ms - a.ms).slice(0, 5).map((o) => ({ op: o.op, startedAfterFreezeMs: o.started - frozenAt, ms: o.ms, answer: label(o) }));
    const summary = {
      frozenPids: frozenPids.length,
      requests: outcomes.length,
      madeWhileHung: made.length,
      madeWhileHungAnswers: count(made),
      madeWhileHungP50Ms: percentile(made.map((o) => o.ms), 50),
      madeWhileHungMaxMs: Math.max(0, ...made.map((o) => o.ms)),
      slowestMadeWhileHung: slowest,
      inFlightAtFreeze: inFlightAtFreeze.map((o) => ({ op: o.op, ms: o.ms, answeredAfterFreezeMs: o.started + o.ms - frozenAt, answer: label(o) })),
      healthWhileHung: health.filter((h) => h.at >= frozenAt && h.at < thawedAt).map((h) => `${h.status}@${h.at - frozenAt}ms+${h.ms}ms`),
      healthMaxMsWhileHung: Math.max(0, ...health.filter((h) => h.at >= frozenAt && h.at < thawedAt).map((h) => h.ms)),
      recoveryMsAfterThaw: recoveredAt ? recoveredAt - thawedAt : null,
      answersAfterThaw: count(outcomes.filter((o) => o.phase === 'after')),
    };
    console.log(`[faults] hung: ${JSON.stringify(summary)}`);
    // The server's own account of its errors (pino level 50: error, 60: fatal), the first few.
    const logged = server.output().split('\n').filter((line) => /"level":(50|60)/.test(line));
    for (const line of logged.slice(0, 3)) console.log(`[faults] hung: the server logged: ${line.slice(0, 2_000)}`);

    // Soft: every figure is checked and reported, then acknowledged writes are verified whatever failed here.
    expect(frozenPids.length, 'postmaster and backends stopped').toBeGreaterThan(1);
    expect.soft(made.length, 'requests made while the database hung').toBeGreaterThan(3);
    expect.soft(summary.madeWhileHungMaxMs, `every request made while the database hung answers within ${ANSWER_WITHIN_MS} ms`).toBeLessThan(ANSWER_WITHIN_MS);
    expect.soft(count(answeredBeforeThaw), 'answers to requests made while the database hung').toEqual({ SERVICE_UNAVAILABLE: answeredBeforeThaw.length });
    expect.soft(made.filter((o) => !o.ok && o.code !== 'SERVICE_UNAVAILABLE').map(label), 'no error but SERVICE_UNAVAILABLE while hung').toEqual([]);
    expect.soft(Math.max(0, ...inFlightAtFreeze.map((o) => o.started + o.ms - frozenAt)), `requests in flight at SIGSTOP answer within ${ANSWER_WITHIN_MS} ms of it`).toBeLessThan(ANSWER_WITHIN_MS);
    expect.soft(healthMade.length, '/health probes made (and due) while hung').toBeGreaterThan(2);
    expect.soft([...new Set(healthMade.map((h) => h.status))], '/health while hung').toEqual([503]);
    expect.soft(Math.max(0, ...healthMade.map((h) => h.ms)), `/health answers within ${ANSWER_WITHIN_MS} ms while hung`).toBeLessThan(ANSWER_WITHIN_MS);
    expect.soft(recoveredAt, 'the server must recover by itself').toBeGreaterThan(0);
    expect.soft(summary.recoveryMsAfterThaw ?? Infinity, `recovered within ${RECOVER_WITHIN_MS} ms of SIGCONT`).toBeLessThan(RECOVER_WITHIN_MS);
    const settled = outcomes.filter((o) => o.started >= recoveredAt);
    expect.soft(count(settled), 'every request after recovery succeeds').toEqual({ ok: settled.length });
    expect.soft((await fetch(`${server.url}/health`)).status, '/health after recovery').toBe(200);

    // ---- nothing acknowledged lost, nothing half-written ----
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const acknowledged = (op: string) => outcomes.filter((o) => o.ok && o.op === op);
      const runIds = acknowledged('executeGraph').map((o) => o.data.executeGraph.graphExecution.id as string);
      const runs = await client.query<{ id: string; n: number }>('SELECT e.id, (SELECT count(*)::int FROM node_executions n WHERE n.graph_execution_id = e.id) AS n FROM graph_executions e');
      const stored = new Map(runs.rows.map((r) => [r.id, r.n]));
      expect(runIds.filter((id) => !stored.has(id)), 'acknowledged runs lost').toEqual([]);
      expect([...stored].filter(([, n]) => n !== 3), 'half-written runs').toEqual([]);
      const running = acknowledged('updateGraphExecution').map((o) => o.data.updateGraphExecution.graphExecution.id as string);
      const statuses = await client.query<{ id: string; status: string }>('SELECT id, status FROM graph_executions WHERE id = ANY($1::uuid[])', [running]);
      expect(statuses.rows.filter((r) => r.status !== 'RUNNING'), 'acknowledged status updates lost').toEqual([]);
      expect(statuses.rows).toHaveLength(new Set(running).size);
      const eventIds = acknowledged('appendSessionEvents').flatMap((o) => o.data.appendSessionEvents.events.map((e: { id: string }) => e.id));
      const events = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM session_events WHERE id = ANY($1::uuid[])', [eventIds]);
      expect(events.rows[0]!.n, 'acknowledged events lost').toBe(eventIds.length);
      const sessionIds = acknowledged('createSession').map((o) => o.data.createSession.session.id as string);
      const sessions = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM sessions WHERE id = ANY($1::uuid[])', [sessionIds]);
      expect(sessions.rows[0]!.n, 'acknowledged sessions lost').toBe(sessionIds.length);
      const torn = await client.query(`SELECT s.id FROM sessions s LEFT JOIN session_events e ON e.session_id = s.id
                                        GROUP BY s.id HAVING s.last_sequence <> count(e.id) OR s.last_sequence <> coalesce(max(e.sequence), 0)`);
      expect(torn.rows, 'sessions whose last_sequence is not their event count').toEqual([]);
      console.log(`[faults] hung: verified ${runIds.length} acknowledged runs, ${running.length} status updates, ${eventIds.length} events, ${sessionIds.length} sessions; ${stored.size} runs stored, none half-written`);
    } finally {
      await client.end();
    }
  });
});
