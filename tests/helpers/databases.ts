import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type Database, type DatabaseKind } from '../../src/db/database.js';
import { syncBuiltInCatalogue } from '../../src/modules/blocks/block-sync.js';
import { applyMigrations } from '../../src/db/migrations.js';

/** The server PostgreSQL tests create their databases on (one fresh database per test file or server). */
export const POSTGRES_ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

/** Which databases the suite runs against: both unless TEST_DATABASES narrows it (e.g. `pglite`). */
export const testDatabaseKinds: DatabaseKind[] = (process.env.TEST_DATABASES ?? 'pglite,postgres')
  .split(',')
  .map((kind) => kind.trim())
  .filter((kind): kind is DatabaseKind => kind === 'pglite' || kind === 'postgres');

export function postgresUrlFor(database: string): string {
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

export async function createPostgresDatabase(prefix = 'agentgraph_test'): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return {
    name,
    url: postgresUrlFor(name),
    drop: () => dropPostgresDatabase(name),
  };
}

/** Drops a database of POSTGRES_ADMIN_URL's server, closing its connections. */
export async function dropPostgresDatabase(name: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/** A fresh, fully migrated database of the given kind; `close` drops it (PostgreSQL) or discards it (PGlite). */
export async function createTestDatabase(kind: DatabaseKind): Promise<Database> {
  if (kind === 'pglite') {
    const db = await openDatabase({ pgliteDataDir: 'memory://', poolMax: 1 });
    await applyMigrations(db);
    await syncBuiltInCatalogue(db.prisma);
    return db;
  }
  const created = await createPostgresDatabase();
  const db = await openDatabase({ url: created.url, pgliteDataDir: '', poolMax: 5 });
  try {
    await applyMigrations(db);
    await syncBuiltInCatalogue(db.prisma);
  } catch (err) {
    await db.close();
    await created.drop();
    throw err;
  }
  const close = db.close.bind(db);
  return Object.assign(db, {
    async close() {
      await close();
      await created.drop();
    },
  });
}
