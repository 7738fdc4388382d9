/**
 * applyMigrations / migrationStatus on PGlite, in-process (Wasm schema engine + PGlite adapter whose scripts are
 * awaited).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database.js';
import { applyMigrations, defaultMigrationsDir, listMigrationNames, MigrationError, migrationStatus } from '../../src/db/migrations.js';

const migrations = listMigrationNames();

function pglite(db: Database) {
  if (db.kind !== 'pglite') throw new Error('expected a PGlite database');
  return db.pglite;
}

describe('migrations on PGlite (in-process)', { timeout: 120_000 }, () => {
  let db: Database;
  beforeAll(async () => {
    db = await openDatabase({ pgliteDataDir: 'memory://', poolMax: 1 });
  });
  afterAll(async () => {
    await db?.close();
  });

  it('applies every migration on a fresh database, then nothing', async () => {
    expect(migrations.length).toBeGreaterThan(0);
    expect(await migrationStatus(db)).toEqual({ applied: [], pending: migrations, failed: [] });

    const started = Date.now();
    expect(await applyMigrations(db)).toEqual({ applied: migrations });
    console.log(`[migrations] applyMigrations on PGlite (memory://): ${Date.now() - started} ms`);
    const again = Date.now();
    expect(await applyMigrations(db)).toEqual({ applied: [] });
    console.log(`[migrations] applyMigrations on an up-to-date PGlite: ${Date.now() - again} ms`);

    expect(await migrationStatus(db)).toEqual({ applied: migrations, pending: [], failed: [] });
    const tables = await pglite(db).query<{ tablename: string }>(`select tablename from pg_tables where schemaname = 'public'`);
    expect(tables.rows.map((r) => r.tablename)).toEqual(expect.arrayContaining(['_prisma_migrations', 'users', 'graphs', 'sessions']));
    // The Prisma client works on the result.
    expect(await db.prisma.user.count()).toBe(0);
  });

  it('reports a failing migration with the database error, rolled back and recorded as failed', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentgraph-mig-'));
    try {
      fs.cpSync(defaultMigrationsDir, dir, { recursive: true });
      const bad = '29990101000000_bad';
      fs.mkdirSync(path.join(dir, bad));
      fs.writeFileSync(
        path.join(dir, bad, 'migration.sql'),
        [
          'CREATE TABLE "halfway" ("id" INTEGER PRIMARY KEY);',
          'ALTER TABLE "users" ADD COLUMN "nickname" TEXT;',
          'ALTER TABLE "no_such_table" ADD COLUMN "x" INTEGER;',
          '',
        ].join('\n'),
      );

      const error = await applyMigrations(db, { migrationsDir: dir }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(MigrationError);
      const message = (error as Error).message;
      expect(message).toContain(bad);
      expect(message).toContain('relation "no_such_table" does not exist');

      // Nothing of the failed script is left.
      const halfway = await pglite(db).query<{ t: string | null }>(`select to_regclass('halfway')::text as t`);
      expect(halfway.rows[0]!.t).toBeNull();
      const nickname = await pglite(db).query(
        `select 1 from information_schema.columns where table_name = 'users' and column_name = 'nickname'`,
      );
      expect(nickname.rows).toHaveLength(0);

      expect(await migrationStatus(db, { migrationsDir: dir })).toEqual({ applied: migrations, pending: [], failed: [bad] });
      const row = await pglite(db).query<{ logs: string | null; finished: boolean }>(
        `select logs, finished_at is not null as finished from _prisma_migrations where migration_name = $1`,
        [bad],
      );
      expect(row.rows[0]!.finished).toBe(false);

      // Further runs refuse until the failure is resolved (P3009), naming the migration.
      const refused = await applyMigrations(db, { migrationsDir: dir }).then(
        () => undefined,
        (e: unknown) => e as MigrationError,
      );
      expect(refused?.code).toBe('P3009');
      expect(refused?.message).toContain(bad);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('migrationStatus', { timeout: 60_000 }, () => {
  it('sees pending migrations of a database that is behind', async () => {
    const db = await openDatabase({ pgliteDataDir: 'memory://', poolMax: 1 });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentgraph-mig-'));
    try {
      fs.cpSync(defaultMigrationsDir, dir, { recursive: true });
      await applyMigrations(db, { migrationsDir: dir });
      const next = '29990101000000_next';
      fs.mkdirSync(path.join(dir, next));
      fs.writeFileSync(path.join(dir, next, 'migration.sql'), 'ALTER TABLE "users" ADD COLUMN "nickname" TEXT;\n');
      expect(await migrationStatus(db, { migrationsDir: dir })).toEqual({ applied: migrations, pending: [next], failed: [] });
      expect(await applyMigrations(db, { migrationsDir: dir })).toEqual({ applied: [next] });
      expect(await migrationStatus(db, { migrationsDir: dir })).toEqual({ applied: [...migrations, next], pending: [], failed: [] });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      await db.close();
    }
  });
});
