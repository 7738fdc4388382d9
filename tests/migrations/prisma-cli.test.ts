/**
 * The Prisma CLI through bin/schema-engine.mjs (the Wasm schema engine behind the native engine's protocol) on a
 * real PostgreSQL database: deploy, status, and the drift check CI runs (schema vs. migrations).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { applyMigrations, listMigrationNames, migrationStatus } from '../../src/db/migrations.js';
import { createPgAdapterFactory } from '../../src/db/schema-engine/adapters.js';
import { addFieldToModel, copyPrismaProject, prisma, scratchDatabase, withClient, type ScratchDatabase } from './helpers.js';

const migrations = listMigrationNames();

describe('prisma CLI with the Wasm schema engine (PostgreSQL)', { timeout: 180_000 }, () => {
  let db: ScratchDatabase;
  beforeAll(async () => {
    // Not created: `migrate deploy` creates it (the engine's `cli create-database`).
    db = await scratchDatabase({ create: false });
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('migrate deploy creates the database and applies every migration', async () => {
    const result = await prisma(['migrate', 'deploy'], { databaseUrl: db.url });
    console.log(`[migrations] prisma migrate deploy on a new database: ${result.ms} ms`);
    expect(result.output).toContain('All migrations have been successfully applied');
    expect(result.code, result.output).toBe(0);
    const rows = await withClient(db.url, (c) =>
      c.query<{ migration_name: string; finished: boolean }>(
        'select migration_name, finished_at is not null as finished from _prisma_migrations order by migration_name',
      ),
    );
    expect(rows.rows).toEqual(migrations.map((name) => ({ migration_name: name, finished: true })));

    const again = await prisma(['migrate', 'deploy'], { databaseUrl: db.url });
    expect(again.code, again.output).toBe(0);
    expect(again.output).toContain('No pending migrations to apply');
  });

  it('migrate status exits 0 and says the database is up to date', async () => {
    const result = await prisma(['migrate', 'status'], { databaseUrl: db.url });
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain('Database schema is up to date!');
  });

  it('the migrations produce exactly prisma/schema.prisma (migrate diff --exit-code)', async () => {
    const result = await prisma(
      ['migrate', 'diff', '--from-migrations', 'prisma/migrations', '--to-schema', 'prisma/schema.prisma', '--exit-code'],
      { databaseUrl: db.url },
    );
    console.log(`[migrations] prisma migrate diff --from-migrations (shadow database): ${result.ms} ms`);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain('No difference detected');
    // And the live database matches the schema too.
    const live = await prisma(['migrate', 'diff', '--from-config-datasource', '--to-schema', 'prisma/schema.prisma', '--exit-code'], {
      databaseUrl: db.url,
    });
    expect(live.code, live.output).toBe(0);
  });

  it('migrate diff --exit-code fails (exit 2) on a schema change without a migration', async () => {
    const copy = copyPrismaProject();
    try {
      addFieldToModel(copy.schemaPath, 'User', 'nickname String?');
      const result = await prisma(
        ['migrate', 'diff', '--from-migrations', 'prisma/migrations', '--to-schema', 'prisma/schema.prisma', '--exit-code', '--script'],
        { databaseUrl: db.url, cwd: copy.dir },
      );
      expect(result.code, result.output).toBe(2);
      expect(result.stdout).toMatch(/ALTER TABLE "users" ADD COLUMN\s+"nickname" TEXT/);
    } finally {
      copy.remove();
    }
  });

  it('migrate diff between schemas needs no database', async () => {
    const result = await prisma(['migrate', 'diff', '--from-empty', '--to-schema', 'prisma/schema.prisma', '--script']);
    expect(result.code, result.output).toBe(0);
    expect(result.stdout).toContain('CREATE TABLE "users"');
  });

  it('the shadow database is created, used and dropped by us (adapter-pg factory)', async () => {
    const { factory, close } = createPgAdapterFactory({ url: db.url });
    try {
      const connected = await factory.connectToShadowDb();
      expect(connected.ok).toBe(true);
      if (!connected.ok) return;
      const shadow = connected.value;
      const result = await shadow.queryRaw({ sql: 'select current_database() as name', args: [], argTypes: [] });
      expect(result.ok).toBe(true);
      const name = result.ok ? String(result.value.rows[0]![0]) : '';
      expect(name).toMatch(/^prisma_migrate_shadow_db_/);
      // Catalog types adapter-pg does not map come back as text.
      const catalog = await shadow.queryRaw({
        sql: `select relkind, 'pg_class'::regclass as rel, indclass from pg_class join pg_index on indexrelid = pg_class.oid limit 1`,
        args: [],
        argTypes: [],
      });
      expect(catalog.ok).toBe(true);
      expect((await shadow.dispose()).ok).toBe(true);
      const exists = await withClient(db.url, (c) => c.query('select 1 from pg_database where datname = $1', [name]));
      expect(exists.rows).toHaveLength(0);
    } finally {
      await close();
    }
  });
});

describe('applyMigrations in-process on PostgreSQL (Wasm engine + adapter-pg)', { timeout: 120_000 }, () => {
  let scratch: ScratchDatabase;
  beforeAll(async () => {
    scratch = await scratchDatabase();
  });
  afterAll(async () => {
    await scratch?.drop();
  });

  it('applies all migrations, then nothing, with the same bookkeeping as migrate deploy', async () => {
    const db = await openDatabase({ url: scratch.url, pgliteDataDir: 'memory://', poolMax: 2 });
    try {
      expect(await migrationStatus(db)).toEqual({ applied: [], pending: migrations, failed: [] });
      const started = Date.now();
      expect(await applyMigrations(db)).toEqual({ applied: migrations });
      console.log(`[migrations] applyMigrations on PostgreSQL (in-process): ${Date.now() - started} ms`);
      expect(await applyMigrations(db)).toEqual({ applied: [] });
      expect(await migrationStatus(db)).toEqual({ applied: migrations, pending: [], failed: [] });
    } finally {
      await db.close();
    }
    // The Prisma CLI agrees.
    const status = await prisma(['migrate', 'status'], { databaseUrl: scratch.url });
    expect(status.code, status.output).toBe(0);
  });
});
