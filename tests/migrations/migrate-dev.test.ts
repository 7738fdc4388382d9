/**
 * `prisma migrate dev`, `db push` and `migrate reset` through bin/schema-engine.mjs, on a copy of prisma/ (schema and
 * migrations) so the repository is not touched.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listMigrationNames } from '../../src/db/migrations.js';
import { addFieldToModel, copyPrismaProject, migrationNames, prisma, scratchDatabase, withClient, type ScratchDatabase } from './helpers.js';

const existing = listMigrationNames();

async function columns(url: string, table: string): Promise<string[]> {
  return withClient(url, async (c) =>
    (
      await c.query<{ column_name: string }>(
        `select column_name from information_schema.columns where table_schema = 'public' and table_name = $1 order by column_name`,
        [table],
      )
    ).rows.map((r) => r.column_name),
  );
}

describe('prisma migrate dev / db push / migrate reset with the Wasm schema engine', { timeout: 180_000 }, () => {
  let copy: ReturnType<typeof copyPrismaProject>;
  let db: ScratchDatabase;
  let pushed: ScratchDatabase;

  beforeAll(async () => {
    copy = copyPrismaProject();
    db = await scratchDatabase();
    pushed = await scratchDatabase();
    const deploy = await prisma(['migrate', 'deploy'], { databaseUrl: db.url, cwd: copy.dir });
    expect(deploy.code, deploy.output).toBe(0);
    await withClient(db.url, (c) =>
      c.query(`insert into users (id, email, name, updated_at) values
        ('018f0000-0000-7000-8000-000000000001', 'ada@example.com', 'Ada', now()),
        ('018f0000-0000-7000-8000-000000000002', 'grace@example.com', 'Grace', now()),
        ('018f0000-0000-7000-8000-000000000003', 'linus@example.com', null, now())`),
    );
    addFieldToModel(copy.schemaPath, 'User', 'nickname String?');
  });
  afterAll(async () => {
    await db?.drop();
    await pushed?.drop();
    copy?.remove();
  });

  it('migrate dev creates and applies a migration for a new nullable column, keeping the rows', async () => {
    const result = await prisma(['migrate', 'dev', '--name', 'add_col'], { databaseUrl: db.url, cwd: copy.dir });
    console.log(`[migrations] prisma migrate dev --name add_col: ${result.ms} ms`);
    expect(result.code, result.output).toBe(0);

    const names = migrationNames(copy.migrationsDir);
    expect(names.slice(0, existing.length)).toEqual(existing);
    expect(names).toHaveLength(existing.length + 1);
    const created = names.at(-1)!;
    expect(created).toMatch(/^\d{14}_add_col$/);
    const sql = fs.readFileSync(path.join(copy.migrationsDir, created, 'migration.sql'), 'utf8');
    expect(sql).toMatch(/ALTER TABLE "users" ADD COLUMN\s+"nickname" TEXT;/);

    const applied = await withClient(db.url, (c) =>
      c.query<{ migration_name: string }>(
        'select migration_name from _prisma_migrations where finished_at is not null and rolled_back_at is null order by migration_name',
      ),
    );
    expect(applied.rows.map((r) => r.migration_name)).toEqual(names);
    expect(await columns(db.url, 'users')).toContain('nickname');
    const users = await withClient(db.url, (c) => c.query<{ email: string; nickname: string | null }>('select email, nickname from users order by email'));
    expect(users.rows).toEqual([
      { email: 'ada@example.com', nickname: null },
      { email: 'grace@example.com', nickname: null },
      { email: 'linus@example.com', nickname: null },
    ]);

    // In sync now: a second run creates nothing.
    const again = await prisma(['migrate', 'dev', '--name', 'noop'], { databaseUrl: db.url, cwd: copy.dir });
    expect(again.code, again.output).toBe(0);
    expect(migrationNames(copy.migrationsDir)).toEqual(names);
  });

  it('migrate dev on an empty database applies the existing migrations, then creates the new one', async () => {
    // The flow that needs the engine's shadow database again after applying migrations in the same process.
    const fresh = await scratchDatabase();
    const copyForFresh = copyPrismaProject();
    try {
      addFieldToModel(copyForFresh.schemaPath, 'User', 'nickname String?');
      const result = await prisma(['migrate', 'dev', '--name', 'add_col'], { databaseUrl: fresh.url, cwd: copyForFresh.dir });
      expect(result.code, result.output).toBe(0);
      const names = migrationNames(copyForFresh.migrationsDir);
      expect(names).toHaveLength(existing.length + 1);
      expect(await columns(fresh.url, 'users')).toContain('nickname');
    } finally {
      await fresh.drop();
      copyForFresh.remove();
    }
  });

  it('db push brings a fresh database to the schema', async () => {
    const result = await prisma(['db', 'push'], { databaseUrl: pushed.url, cwd: copy.dir });
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(/in sync with your Prisma schema/);
    expect(await columns(pushed.url, 'users')).toContain('nickname');
    const diff = await prisma(['migrate', 'diff', '--from-config-datasource', '--to-schema', 'prisma/schema.prisma', '--exit-code'], {
      databaseUrl: pushed.url,
      cwd: copy.dir,
    });
    expect(diff.code, diff.output).toBe(0);
  });

  it('migrate reset --force drops the data and re-applies every migration', async () => {
    const result = await prisma(['migrate', 'reset', '--force'], { databaseUrl: db.url, cwd: copy.dir });
    console.log(`[migrations] prisma migrate reset --force: ${result.ms} ms`);
    expect(result.code, result.output).toBe(0);
    const count = await withClient(db.url, (c) => c.query<{ n: number }>('select count(*)::int as n from users'));
    expect(count.rows[0]!.n).toBe(0);
    expect(await columns(db.url, 'users')).toContain('nickname');
    const applied = await withClient(db.url, (c) =>
      c.query<{ migration_name: string }>('select migration_name from _prisma_migrations where finished_at is not null order by migration_name'),
    );
    expect(applied.rows.map((r) => r.migration_name)).toEqual(migrationNames(copy.migrationsDir));
    const status = await prisma(['migrate', 'status'], { databaseUrl: db.url, cwd: copy.dir });
    expect(status.code, status.output).toBe(0);
  });
});
