import { EventEmitter } from 'node:events';
import type http from 'node:http';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { createServer, type AppServer } from '../../src/server/app.js';
import { createFairAdmission } from '../../src/server/fair-admission.js';
import { createTestDatabase, testDatabaseKinds } from '../helpers/databases.js';
import { createGraph, createUser } from '../helpers/factories.js';

/** A response as admission sees it: closes when the test says it was answered. */
class Answer extends EventEmitter {
  destroyed = false;
  status = 0;
  body = '';
  writeHead(status: number) {
    this.status = status;
    return this;
  }
  end(body: string) {
    this.body = body;
    this.emit('close');
  }
  answered() {
    this.emit('close');
  }
}
const asResponse = (answer: Answer) => answer as unknown as http.ServerResponse;

describe('fair admission (the scheduler)', () => {
  it('admits at once under the limit, then one client at a time in turn, each freed slot going to the next client', () => {
    const admission = createFairAdmission({ maxConcurrent: 2, maxQueued: 100 });
    const started: string[] = [];
    const answers = new Map<string, Answer>();
    const send = (client: string, id: string) => {
      const answer = new Answer();
      answers.set(id, answer);
      admission.admit(client, asResponse(answer), () => started.push(id));
    };
    send('abuser', 'a1');
    send('abuser', 'a2');
    send('abuser', 'a3');
    send('abuser', 'a4');
    send('abuser', 'a5');
    send('dashboard', 'd1');
    expect(started).toEqual(['a1', 'a2']);
    expect(admission.stats()).toEqual({ running: 2, queued: 4, clients: 2 });

    answers.get('a1')!.answered();
    answers.get('a2')!.answered();
    // The abuser's third request was waiting first; then it is the dashboard's turn, not the abuser's fourth.
    expect(started).toEqual(['a1', 'a2', 'a3', 'd1']);
    answers.get('a3')!.answered();
    answers.get('d1')!.answered();
    expect(started).toEqual(['a1', 'a2', 'a3', 'd1', 'a4', 'a5']);
  });

  it('frees a slot when an answer is parked (a 429 in the tarpit), once, and skips requests whose client left', () => {
    const admission = createFairAdmission({ maxConcurrent: 1, maxQueued: 100 });
    const started: string[] = [];
    const first = new Answer();
    admission.admit('a', asResponse(first), () => started.push('first'));
    const gone = new Answer();
    admission.admit('b', asResponse(gone), () => started.push('gone'));
    const next = new Answer();
    admission.admit('c', asResponse(next), () => started.push('next'));
    gone.destroyed = true;

    admission.release(asResponse(first));
    expect(started).toEqual(['first', 'next']);
    // Written later, the parked answer does not free a second slot.
    first.answered();
    expect(admission.stats()).toEqual({ running: 1, queued: 0, clients: 0 });
  });

  it('answers 503 SERVICE_UNAVAILABLE at once when too many requests wait', () => {
    const admission = createFairAdmission({ maxConcurrent: 1, maxQueued: 2 });
    const answers = Array.from({ length: 4 }, () => new Answer());
    for (const answer of answers) admission.admit('a', asResponse(answer), () => undefined);
    expect(answers.map((a) => a.status)).toEqual([0, 0, 0, 503]);
    expect(JSON.parse(answers[3]!.body).errors[0].extensions.code).toBe('SERVICE_UNAVAILABLE');
  });
});

/**
 * Over HTTP, with one request processed at a time: an abuser's requests, held by a lock on the graphs table, queue
 * up; a request of another key sent after them is answered before the abuser's last ones, not after all of them.
 */
describe.each(testDatabaseKinds.filter((kind) => kind === 'postgres'))('fair admission over HTTP on %s', (kind) => {
  let db: Database;
  let server: AppServer;
  let url: string;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    server = await createServer({ db, log: pino({ level: 'silent' }), maxConcurrentRequests: 1 });
    url = `${(await server.listen(0, '127.0.0.1')).url}/graphql`;
  });
  afterAll(async () => {
    await server?.stop();
    await db?.close();
  });

  const post = (key: string, query: string) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ query }) });

  it('serves the other client in turn while the abuser waits', async () => {
    const abuser = await createUser(db);
    const other = await createUser(db);
    await createGraph(db, abuser.user.id);
    // Both keys verified once: from then on each is a client of its own (unverified keys share their address).
    expect((await post(abuser.apiKey, '{ viewer { id } }')).status).toBe(200);
    expect((await post(other.apiKey, '{ viewer { id } }')).status).toBe(200);

    if (db.kind !== 'postgres') throw new Error('a table lock needs PostgreSQL');
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    await locker.query('BEGIN; LOCK TABLE graphs IN ACCESS EXCLUSIVE MODE');
    const finished: string[] = [];
    const track = (id: string, answer: Promise<Response>) => answer.then(async (res) => {
      expect(res.status).toBe(200);
      expect((await res.json()) as object).not.toHaveProperty('errors');
      finished.push(id);
    });
    const pending: Array<Promise<void>> = [];
    for (let i = 1; i <= 4; i++) {
      pending.push(track(`abuser ${i}`, post(abuser.apiKey, `query A${i} { graphs(first: 1) { nodes { id } } }`)));
      await new Promise((r) => setTimeout(r, 30));
    }
    pending.push(track('other', post(other.apiKey, '{ viewer { id } }')));
    await new Promise((r) => setTimeout(r, 100));
    await locker.query('COMMIT');
    await locker.end();
    await Promise.all(pending);
    // Arrival order would answer `other` last.
    expect(finished).toEqual(['abuser 1', 'abuser 2', 'other', 'abuser 3', 'abuser 4']);
  });
});
