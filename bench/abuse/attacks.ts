/**
 * The abusive clients of `npm run bench:abuse`: each attack is one iteration of a loop that its workers
 * (`concurrency` of them) repeat until the abuse phase ends. Every answer is recorded under the attack's id.
 */
import { randomBytes } from 'node:crypto';
import { postGraphql, type Answer } from './client.js';

export type AttackContext = {
  /** The server's current URL (a new one after a restart). */
  url(): string;
  keys: {
    /** Normal user keys (every permission but ADMIN) of the abusing user, one per attack. */
    user: Record<string, string>;
    readGraphs: string;
    admin: string;
  };
  bigGraphId: string;
  bigSessionId: string;
  /** Aborted when the abuse phase ends. */
  signal: AbortSignal;
  /** The loopback address an attack sends from (its own unless the run says otherwise). */
  addressOf(attack: string): string;
  record(attack: string, answer: Answer): void;
};

export type Attack = {
  id: string;
  title: string;
  /** Workers looping concurrently. */
  concurrency: number;
  /** A 200 with data is acceptable (listed in the report); otherwise the attack must be refused. */
  mayAnswer: boolean;
  /** Ids of the answers it records besides its own (sub-requests). */
  parts?: Record<string, string>;
  iterate(ctx: AttackContext, worker: WorkerState): Promise<void>;
};

export type WorkerState = { index: number; sessionId?: string; iteration: number };

const TIMEOUT_MS = 30_000;
const DAY = 86_400_000;

const send = (ctx: AttackContext, id: string, body: unknown, key: string | null, timeoutMs = TIMEOUT_MS) =>
  postGraphql(ctx.url(), body, { key, timeoutMs, signal: ctx.signal, from: ctx.addressOf(id.replace(/[a-z]$/, '')) }).then((answer) => {
    ctx.record(id, answer);
    return answer;
  });

const aliases = (n: number, field: (i: number) => string) => Array.from({ length: n }, (_, i) => field(i)).join(' ');

/** 400 days ending now, the widest range executionStats accepts. */
function statsFilter() {
  const to = Date.now();
  return { from: new Date(to - 400 * DAY).toISOString(), to: new Date(to).toISOString() };
}

/** `n` aliases of a 400-day HOUR-bucketed executionStats (9,600 buckets each), through one fragment. */
export function statsDocument(n: number): string {
  return `query Stats($f: ExecutionStatsFilter!) { ${aliases(n, (i) => `s${i}: executionStats(filter: $f, bucket: HOUR) { ...S }`)} }
fragment S on ExecutionStats { total successRate duration { p95Ms } byStatus { status count } timeSeries { bucketStart total failed p95DurationMs cost } }`;
}

const FANOUT = 'query Fanout($id: ID!) { graph(id: $id) { nodes { graph { nodes { graph { nodes { id } } } } } } }';
const DEFAULTS = 'query Defaults($n: Int = 100) { graphs(first: $n) { nodes { executions(first: $n) { nodes { nodeExecutions(first: $n) { nodes { id } } } } } } }';
const STATS_700 = statsDocument(700);
const STATS_10 = statsDocument(10);
const INTROSPECTION = `query { ${aliases(600, (i) => `i${i}: __schema { types { fields { name } } }`)} }`;
const EVENTS = 'query Events($id: ID!) { session(id: $id) { events(last: 100, filter: { branch: "x" }) { totalCount nodes { sequence } } } }';
const APPEND = 'mutation Append($id: ID!, $e: [SessionEventInput!]!) { appendSessionEvents(sessionId: $id, events: $e) { session { id version } } }';

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** A well-formed key (`agk_<8 alphanumerics>_<43 base64url>`) that no one was ever given. */
export function randomApiKey(): string {
  const lookup = Array.from(randomBytes(8), (b) => KEY_ALPHABET[b % KEY_ALPHABET.length]).join('');
  return `agk_${lookup}_${randomBytes(32).toString('base64url')}`;
}

/** A document of about `bytes` bytes that no one sent before: distinct aliases of `viewer { id }`. */
export function uniqueDocument(bytes: number): string {
  const tag = randomBytes(4).toString('hex');
  const fields: string[] = [];
  let size = 10;
  for (let i = 0; size < bytes; i++) {
    const field = `u${tag}_${i}: viewer { id }`;
    fields.push(field);
    size += field.length + 1;
  }
  return `query { ${fields.join(' ')} }`;
}

export const ATTACKS: Attack[] = [
  {
    id: '1',
    title: 'fan-out through plain lists (500-node graph, graph → nodes → graph → nodes → graph → nodes)',
    concurrency: 1,
    mayAnswer: false,
    iterate: async (ctx) => void (await send(ctx, '1', { query: FANOUT, variables: { id: ctx.bigGraphId } }, ctx.keys.user['1']!)),
  },
  {
    id: '2',
    title: 'variable defaults (`$n: Int = 100` for three nested pages, sent without variables)',
    concurrency: 2,
    mayAnswer: false,
    iterate: async (ctx) => void (await send(ctx, '2', { query: DEFAULTS }, ctx.keys.user['2']!)),
  },
  {
    id: '3a',
    title: '700 aliases of a 400-day HOUR executionStats (READ_GRAPHS key)',
    concurrency: 1,
    mayAnswer: false,
    iterate: async (ctx) => void (await send(ctx, '3a', { query: STATS_700, variables: { f: statsFilter() } }, ctx.keys.readGraphs)),
  },
  {
    id: '3b',
    title: 'a batch of 10 documents of 700 such aliases (READ_GRAPHS key)',
    concurrency: 1,
    mayAnswer: false,
    iterate: async (ctx) => {
      const f = statsFilter();
      await send(ctx, '3b', Array.from({ length: 10 }, () => ({ query: STATS_700, variables: { f } })), ctx.keys.readGraphs);
    },
  },
  {
    id: '3c',
    title: '10 aliases of a 400-day HOUR executionStats over every user (ADMIN key)',
    concurrency: 1,
    mayAnswer: true,
    iterate: async (ctx) => void (await send(ctx, '3c', { query: STATS_10, variables: { f: statsFilter() } }, ctx.keys.admin)),
  },
  {
    id: '4',
    title: 'introspection flood without an API key (600 aliased `__schema { types { fields { name } } }`)',
    concurrency: 2,
    mayAnswer: false,
    iterate: async (ctx) => void (await send(ctx, '4', { query: INTROSPECTION }, null)),
  },
  {
    id: '5',
    title: 'random well-formed API keys at a high rate',
    concurrency: 8,
    mayAnswer: false,
    iterate: async (ctx) => void (await send(ctx, '5', { query: '{ viewer { id } }' }, randomApiKey(), 10_000)),
  },
  {
    id: '6',
    title: 'a unique ~65 KB document (distinct aliases), each sent 4 times (compiled from its third use)',
    concurrency: 2,
    mayAnswer: true,
    iterate: async (ctx) => {
      const body = JSON.stringify({ query: uniqueDocument(65_000) });
      for (let i = 0; i < 4 && !ctx.signal.aborted; i++) await send(ctx, '6', body, ctx.keys.user['6']!);
    },
  },
  {
    id: '7',
    title: 'session state growth: appends of 15 events × 100 new state keys, then reads',
    concurrency: 2,
    mayAnswer: true,
    parts: { '7a': 'append (15 events, 1,500 new state keys)', '7b': '`session(id) { id version }`', '7c': '`sessions(first: 5) { nodes { id } }`' },
    iterate: async (ctx, worker) => {
      const key = ctx.keys.user['7']!;
      if (!worker.sessionId) {
        const created = await send(ctx, '7a', { query: 'mutation { createSession(input: { appName: "abuse-state" }) { session { id } } }' }, key);
        worker.sessionId = created.json?.data?.createSession?.session?.id;
        if (!worker.sessionId) return;
      }
      const n = worker.iteration;
      const events = Array.from({ length: 15 }, (_, e) => ({
        author: 'agent',
        content: { n, e },
        actions: { stateDelta: Object.fromEntries(Array.from({ length: 100 }, (_, k) => [`w${worker.index}_i${n}_e${e}_k${k}`, k])) },
      }));
      await send(ctx, '7a', { query: APPEND, variables: { id: worker.sessionId, e: events } }, key);
      await send(ctx, '7b', { query: 'query($id: ID!) { session(id: $id) { id version } }', variables: { id: worker.sessionId } }, key);
      await send(ctx, '7c', { query: '{ sessions(first: 5) { nodes { id } } }' }, key);
    },
  },
  {
    id: '8',
    title: '`events(last: 100, filter: { branch: "x" }) { totalCount nodes { sequence } }` on a big session',
    concurrency: 2,
    mayAnswer: true,
    iterate: async (ctx) => void (await send(ctx, '8', { query: EVENTS, variables: { id: ctx.bigSessionId } }, ctx.keys.user['8']!)),
  },
];
