import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { snapshotDatabase } from '../helpers/snapshot.js';
import type { TestServer } from '../helpers/server.js';

/**
 * The hostile-input harness: every case goes through `refused`/`answered`, which assert the promise the server
 * makes about abuse (a 4xx or a GraphQL error with a stable code; never a 5xx, never INTERNAL_SERVER_ERROR, never
 * a hang) and count the case, so each file can print how many it threw at the server.
 */

/** Every `extensions.code` a client may see for refused input. INTERNAL_SERVER_ERROR is deliberately absent. */
export const STABLE_CODES = new Set([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'BAD_USER_INPUT',
  'CONFLICT',
  'BAD_REQUEST',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'QUERY_TOO_LONG',
  'QUERY_TOO_DEEP',
  'QUERY_TOO_COMPLEX',
  'BATCH_TOO_LARGE',
  'PAYLOAD_TOO_LARGE',
  'RATE_LIMITED',
  'DEADLINE_EXCEEDED',
  'RESPONSE_TOO_LARGE',
]);

/** A request that got no answer within this time is a hang. */
export const HANG_MS = 15_000;

export type RawResponse = { status: number; text: string; json: unknown; ms: number };
type GqlError = { message?: string; extensions?: { code?: string } };

export function errorsOf(json: unknown): GqlError[] {
  if (Array.isArray(json)) return json.flatMap((item) => errorsOf(item));
  const errors = (json as { errors?: unknown } | null)?.errors;
  return Array.isArray(errors) ? (errors as GqlError[]) : [];
}

export const codesOf = (json: unknown) => errorsOf(json).map((e) => e.extensions?.code);

export class CaseCounter {
  count = 0;
  constructor(readonly file: string) {}

  /** Prints this file's count and the running total over the files of this vitest run. */
  report(): void {
    const dir = path.join(os.tmpdir(), `agentgraph-hostile-${process.ppid}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${this.file}-${process.pid}-${Date.now()}.json`), JSON.stringify(this.count));
    const total = fs.readdirSync(dir).reduce((sum, name) => sum + Number(JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'))), 0);
    console.log(`[hostile] ${this.file}: ${this.count} cases (total over the files finished so far in this run: ${total})`);
  }
}

export function createClient(server: TestServer, counter: CaseCounter) {
  /** POSTs a raw body (string or bytes) to /graphql and reads the answer within HANG_MS. */
  const raw = async (body: string | Buffer | undefined, options: { headers?: Record<string, string>; key?: string | null; method?: string; path?: string } = {}): Promise<RawResponse> => {
    const key = options.key === undefined ? server.apiKey : options.key;
    const started = Date.now();
    const send = () =>
      fetch(`${server.url}${options.path ?? '/graphql'}`, {
        method: options.method ?? 'POST',
        headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...options.headers },
        body: body === undefined ? undefined : typeof body === 'string' ? body : new Uint8Array(body),
        signal: AbortSignal.timeout(HANG_MS),
      });
    // A kept-alive socket the server closes (keepAliveTimeout) just as the client reuses it resets; that is the
    // client's race, not an answer, so the request is sent once more on a fresh connection.
    const res = await send().catch((err: { cause?: { code?: string } }) => {
      if (err?.cause?.code !== 'ECONNRESET') throw err;
      return send();
    });
    const text = await res.text();
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      // left null; the assertions say what was expected
    }
    return { status: res.status, text, json, ms: Date.now() - started };
  };

  const op = (query: string, variables?: unknown, key?: string | null) => raw(JSON.stringify({ query, variables }), { key });

  /** Asserts the answer is a refusal with a stable code (any of `codes` when given). */
  const expectRefusal = (res: RawResponse, label: string, codes?: string[]) => {
    counter.count += 1;
    const detail = `${label}: HTTP ${res.status} ${res.text.slice(0, 400)}`;
    expect.soft(res.status, detail).toBeLessThan(500);
    const found = codesOf(res.json);
    if (res.status >= 400 && found.length === 0) {
      // Transport-level refusals may come without a GraphQL body (e.g. 405, 415), but never as an HTML page.
      expect(res.text, detail).not.toMatch(/<html|<pre>|stack|at .*\.js:/i);
      return;
    }
    expect.soft(found.length, detail).toBeGreaterThan(0);
    for (const code of found) {
      expect.soft(code, detail).not.toBe('INTERNAL_SERVER_ERROR');
      expect.soft(STABLE_CODES.has(code ?? ''), `unstable code ${code} — ${detail}`).toBe(true);
      if (codes) expect.soft(codes, detail).toContain(code);
    }
  };

  /** Asserts the answer is either data without errors, or a refusal with a stable code. */
  const expectAnswered = (res: RawResponse, label: string) => {
    const errors = errorsOf(res.json);
    if (res.status === 200 && errors.length === 0) {
      counter.count += 1;
      return 'ok' as const;
    }
    expectRefusal(res, label);
    return 'refused' as const;
  };

  /** Sends the request and asserts it was refused and that the database did not change. */
  const refusedUnchanged = async (db: Database, label: string, send: () => Promise<RawResponse>, codes?: string[]) => {
    const before = await snapshotDatabase(db);
    const res = await send();
    expectRefusal(res, label, codes);
    expect.soft(await snapshotDatabase(db), `${label} changed the database`).toEqual(before);
    return res;
  };

  return { raw, op, expectRefusal, expectAnswered, refusedUnchanged };
}

export type HostileClient = ReturnType<typeof createClient>;

/** Strings PostgreSQL cannot store (NUL) or that are not Unicode (lone surrogates), and look-alikes that are fine. */
export const UNSTORABLE_STRINGS: Array<[string, string]> = [
  ['NUL', 'a\u0000b'],
  ['only NUL', '\u0000'],
  ['lone high surrogate', 'x\ud800y'],
  ['lone low surrogate', '\udfff'],
  ['reversed pair', '\udc00\ud800'],
];

/** Strings that look like SQL, LIKE patterns, JSON paths or regexes: they must be taken literally. */
export const INJECTION_STRINGS = [
  "' OR 1=1 --",
  "'; DROP TABLE users; --",
  '" OR ""="',
  '%',
  '_',
  '%%',
  '\\',
  '\\%',
  '$.a[*]',
  '$..*',
  '@> \'{}\'',
  '.*',
  '(?i)x',
  '${jndi:ldap://x}',
  '{{7*7}}',
  '\u202e\u2066',
  '😀'.repeat(10),
];

/** `n` levels of {"a": {"a": … 1}} built without recursion. */
export function nestedObject(levels: number, leaf: unknown = 1): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf };
  for (let i = 1; i < levels; i++) value = { a: value };
  return value;
}

/** `n` levels of {"a": {"a": … {"leaf": 1}}} as JSON text (V8's JSON.stringify overflows the stack long before 10,000). */
export const nestedObjectJson = (levels: number) => `${'{"a":'.repeat(levels - 1)}{"leaf":1}${'}'.repeat(levels - 1)}`;

/** `n` levels of nested arrays, as JSON text (so building it costs nothing). */
export const nestedArrayJson = (levels: number) => `${'['.repeat(levels)}1${']'.repeat(levels)}`;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
