import fs from 'node:fs';
import pg from 'pg';
import { QUESTIONS, type ServerKind } from './questions.ts';
import { startServer } from './servers.ts';
import { loadWindow } from './load.ts';
import { summarizeProfile } from './profile.ts';
const url = 'postgresql://postgres@127.0.0.1:5432/agentgraph_cmp_bd19fab8e94b';
const c = new pg.Client({ connectionString: url }); await c.connect();
const runs = (await c.query(`SELECT e.id, e.user_id AS "userId" FROM graph_executions e WHERE NOT e.is_deleted AND e.status='COMPLETED' AND (SELECT count(*) FROM node_executions n WHERE n.graph_execution_id=e.id) >= 12 ORDER BY e.id LIMIT 32`)).rows;
const writeGraphs = (await c.query(`SELECT g.id, g.user_id AS "userId" FROM graphs g WHERE g.is_active ORDER BY md5(g.id::text) DESC LIMIT 64`)).rows;
// RUNNING/REVIEW runs: take ones in RUNNING now (the previous run toggled an even number of times or not)
const toggleRuns = (await c.query(`SELECT id, user_id AS "userId" FROM graph_executions WHERE status='RUNNING' AND NOT is_deleted ORDER BY id DESC LIMIT 400`)).rows;
const fx: any = { adminKey: '', keyOf: {}, runs, listing: {}, users: [], writeGraphs, toggleRuns };
const verify = async (sql: string, p: unknown[]) => (await c.query(sql, p)).rows;
for (const kind of ['postgraphile', 'floor'] as ServerKind[]) for (const qid of ['b', 'e']) {
  const dir = `/tmp/cmp-prof-${kind}-${qid}`; fs.rmSync(dir, { recursive: true, force: true });
  const s = await startServer(kind, url, { agentgraphMode: 'dist', poolMax: 10, nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
  const post = async (r: any) => (await fetch(s.url + r.path, { method: 'POST', headers: r.headers, body: r.body })).json();
  const q = QUESTIONS.find((x) => x.id === qid)!;
  const prepared = await q.prepare(kind, post, fx, verify);
  const w = await loadWindow(s.url, prepared.next, { connections: 8, seconds: 6 });
  await s.stop();
  const sum = summarizeProfile(`${dir}/${fs.readdirSync(dir)[0]}`, 5);
  console.log(kind, qid, Math.round(w.rps), 'rps; writev', sum.functions.find((f) => f.name === 'writev')?.share.toFixed(3), 'top:', sum.functions.map((f) => `${f.name} ${(f.share * 100).toFixed(1)}%`).join(', '));
}
await c.end();
