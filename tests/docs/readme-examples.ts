/**
 * What tests/docs/readme-examples.test.ts needs around the README: its GraphQL examples as a reader sees them (each
 * operation with the block it is pasted in), the demo server they run on, and the two ways of sending them.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kind, parse, type OperationTypeNode } from 'graphql';
import { createClient } from 'graphql-sse';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import type { DatabaseKind } from '../../src/db/database.js';
import { boot, type RunningServer } from '../../src/server/boot.js';
import { DEMO_SEED_OPTIONS, seedDatabase } from '../../src/seed/index.js';
import { createPostgresDatabase } from '../helpers/databases.js';

export const README_PATH = new URL('../../README.md', import.meta.url);
export const readme = fs.readFileSync(README_PATH, 'utf8');

/** A ```graphql block of the README. */
export const graphqlBlocks: string[] = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]!);

/**
 * One operation of a block, sent as its own document. (The whole block with an operation name would answer the same,
 * but a document is compiled per operation and charged by its whole length: three or four operations of a long block
 * run back to back exhaust the key's cost budget, which a reader's pauses would refill.)
 */
export type ReadmeOperation = { name: string; kind: OperationTypeNode; document: string; operationName?: string };

/** The name an operation is known by here: its own, or `(anonymous)` for a block's only, unnamed one. */
export const ANONYMOUS = '(anonymous)';

export const readmeOperations: ReadmeOperation[] = graphqlBlocks.flatMap((block) =>
  parse(block).definitions.flatMap((definition) => {
    if (definition.kind !== Kind.OPERATION_DEFINITION) throw new Error('README examples are operations only (no fragments): each is run on its own');
    const document = block.slice(definition.loc!.start, definition.loc!.end);
    return [{ name: definition.name?.value ?? ANONYMOUS, kind: definition.operation, document, operationName: definition.name?.value }];
  }),
);

/** The README's curl example of a persisted document: its command with line continuations joined. */
export function persistedDocumentCurl(): string {
  const block = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!).find((text) => text.includes('persistedQuery'));
  if (!block) throw new Error('README has no curl example of a persisted document');
  return block
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n\s*/g, '')
    .trim();
}

export type DemoServer = { url: string; key: string; running: RunningServer; close(): Promise<void> };

const quiet = pino({ level: 'silent' });
const configFor = (env: Record<string, string>) => loadConfig({ PORT: '0', HOST: '127.0.0.1', DB_POOL_MAX: '4', ...env }, ['node', 'main']);

/**
 * The server as a reader gets it, on a new database with the demo data and its admin key: on PGlite, `npm start`'s
 * own boot (migrates, seeds DEMO_SEED_OPTIONS, keeps the key); on PostgreSQL, a migrating boot and `npm run db:seed`'s
 * defaults (the same options).
 */
export async function startDemoServer(kind: DatabaseKind): Promise<DemoServer> {
  if (kind === 'pglite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentgraph-readme-'));
    try {
      const running = await boot(configFor({ PGLITE_DATA_DIR: path.join(dir, 'pglite') }), quiet);
      if (!running.demo?.createdNow) throw new Error('the embedded boot did not seed the demo data');
      return {
        url: running.url,
        key: running.demo.key,
        running,
        async close() {
          await running.shutdown();
          fs.rmSync(dir, { recursive: true, force: true });
        },
      };
    } catch (err) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }
  const database = await createPostgresDatabase('agentgraph_readme');
  let running: RunningServer | undefined;
  try {
    running = await boot(configFor({ DATABASE_URL: database.url, MIGRATE_ON_START: '1' }), quiet);
    const { apiKeys } = await seedDatabase(running.db, DEMO_SEED_OPTIONS);
    const admin = apiKeys.find((entry) => entry.permissions.includes('ADMIN'))!;
    const started = running;
    return {
      url: started.url,
      key: admin.key,
      running: started,
      async close() {
        await started.shutdown();
        await database.drop();
      },
    };
  } catch (err) {
    await running?.shutdown();
    await database.drop();
    throw err;
  }
}

export type Answer = { status: number; data?: Record<string, unknown> | null; errors?: Array<{ message: string; extensions?: { code?: string } }> };

/** POSTs an example (its whole block, the operation picked by name) to /graphql. */
export async function send(server: DemoServer, operation: ReadmeOperation, variables: Record<string, unknown>): Promise<Answer> {
  for (let attempt = 1; ; attempt++) {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.key}` },
      body: JSON.stringify({ query: operation.document, operationName: operation.operationName, variables }),
    });
    const answer = { status: response.status, ...((await response.json()) as Omit<Answer, 'status'>) };
    // Dashboard alone is priced at 205,805 of the key's burst of 250,000 (README: priced at the schema's maxima), and
    // the cost budget refills at 25,000 a second: a reader's pauses between examples refill it, the test waits as told.
    const retryAfter = Number(response.headers.get('retry-after'));
    if (response.status !== 429 || !retryAfter || attempt === 3) return answer;
    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1_000));
  }
}

/** A subscription over GraphQL over SSE (POST /graphql, Accept: text/event-stream): what it delivered so far. */
export type Subscription = { results: Answer[]; stop(): Promise<void>; waitUntil(done: (results: Answer[]) => boolean, what: string): Promise<void> };

export async function subscribe(server: DemoServer, operation: ReadmeOperation, variables: Record<string, unknown>): Promise<Subscription> {
  const client = createClient({ url: `${server.url}/graphql`, headers: { authorization: `Bearer ${server.key}` }, singleConnection: false, retryAttempts: 0 });
  const results: Answer[] = [];
  let failure: unknown;
  const before = server.running.server.liveStats().subscriptions;
  const unsubscribe = client.subscribe(
    { query: operation.document, operationName: operation.operationName, variables },
    {
      next: (value) => void results.push({ status: 200, ...(value as Omit<Answer, 'status'>) }),
      error: (error) => void (failure = error),
      complete: () => {},
    },
  );
  const waitUntil = async (done: (results: Answer[]) => boolean, what: string, failed = () => failure !== undefined) => {
    const deadline = Date.now() + 15_000;
    while (!done(results)) {
      if (failed()) throw new Error(`${operation.name} failed while waiting for ${what}: ${String(failure)}`);
      if (Date.now() > deadline) throw new Error(`${operation.name}: timed out waiting for ${what}; got ${JSON.stringify(results).slice(0, 500)}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };
  // Writes made from here on reach it: wait until the server holds the subscription (or it already answered).
  await waitUntil((received) => received.length > 0 || server.running.server.liveStats().subscriptions > before, 'the subscription to start');
  return {
    results,
    waitUntil,
    async stop() {
      unsubscribe();
      client.dispose();
      // Gone from the server before the next example counts its subscriptions.
      await waitUntil(() => server.running.server.liveStats().subscriptions <= before, 'the subscription to end', () => false);
    },
  };
}
