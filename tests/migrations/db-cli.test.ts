/**
 * `npm run db:migrate|db:status|db:reset` (src/cli/db.ts) on PostgreSQL: in-process through the Wasm schema engine,
 * without the Prisma CLI, with the messages and exit codes the commands had when they ran `prisma migrate
 * deploy|status|reset`. (On PGlite the same code runs; tests/migrations/pglite.test.ts covers the engine there.)
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/config.js';
import { listMigrationNames } from '../../src/db/migrations.js';
import { prisma, run, scratchDatabase, withClient, type ScratchDatabase } from './helpers.js';

const migrations = listMigrationNames();
const tsx = path.join(projectRoot, 'node_modules', '.bin', 'tsx');

describe('src/cli/db.ts on PostgreSQL (in-process)', { timeout: 180_000 }, () => {
  let db: ScratchDatabase;
  const dbCli = (...args: string[]) => run(tsx, ['src/cli/db.ts', ...args], { env: { ...process.env, DATABASE_URL: db.url } });
  const count = (sql: string) => withClient(db.url, async (c) => (await c.query<{ n: number }>(sql)).rows[0]!.n);

  beforeAll(async () => {
    // Not created: `db:migrate` creates it, as `prisma migrate deploy` did.
    db = await scratchDatabase({ create: false });
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('db:status on a database that does not exist fails, naming it', async () => {
    const status = await dbCli('status');
    expect(status.code, status.output).toBe(1);
    expect(status.output).toContain(`database "${db.name}" does not exist`);
  });

  it('db:migrate creates the database, applies every migration and syncs the block catalogue; then has nothing to do', async () => {
    const migrate = await dbCli('migrate');
    expect(migrate.code, migrate.output).toBe(0);
    expect(migrate.output).toContain(`Created the PostgreSQL database "${db.name}"`);
    expect(migrate.output).toContain(`Applied ${migrations.length} migration(s)`);
    expect(await count('select count(*)::int as n from _prisma_migrations where finished_at is not null')).toBe(migrations.length);
    expect(await count('select count(*)::int as n from blocks')).toBeGreaterThan(0);

    const again = await dbCli('migrate');
    expect(again.code, again.output).toBe(0);
    expect(again.output).toContain('No pending migrations to apply');
  });

  it('db:status exits 0 when up to date, 1 with a pending migration or one this checkout does not have', async () => {
    const upToDate = await dbCli('status');
    expect(upToDate.code, upToDate.output).toBe(0);
    expect(upToDate.output).toContain('Database schema is up to date!');

    const last = migrations.at(-1)!;
    const sql = (text: string, values: unknown[] = []) => withClient(db.url, (c) => c.query(text, values));
    await sql('update _prisma_migrations set rolled_back_at = now() where migration_name = $1', [last]);
    const pending = await dbCli('status');
    expect(pending.code, pending.output).toBe(1);
    expect(pending.output).toContain(`pending: ${last}`);
    await sql('update _prisma_migrations set rolled_back_at = null where migration_name = $1', [last]);

    const newer = '29991231000000_from_a_newer_checkout';
    await sql(`insert into _prisma_migrations (id, checksum, migration_name, finished_at, applied_steps_count) values (gen_random_uuid()::text, 'x', $1, now(), 1)`, [newer]);
    const unknown = await dbCli('status');
    expect(unknown.code, unknown.output).toBe(1);
    expect(unknown.output).toContain(`applied, not in prisma/migrations: ${newer}`);
    await sql('delete from _prisma_migrations where migration_name = $1', [newer]);
    expect((await dbCli('status')).code).toBe(0);
  });

  it('db:reset refuses without --force off a terminal, and with it empties the database and migrates again', async () => {
    await withClient(db.url, (c) =>
      c.query(`insert into users (id, email, name, updated_at) values ('018f0000-0000-7000-8000-000000000001', 'ada@example.com', 'Ada', now())`),
    );
    const refused = await dbCli('reset');
    expect(refused.code, refused.output).toBe(1);
    expect(refused.output).toContain('without --force');
    expect(await count('select count(*)::int as n from users')).toBe(1);

    const reset = await dbCli('reset', '--force');
    expect(reset.code, reset.output).toBe(0);
    expect(reset.output).toContain(`Applied ${migrations.length} migration(s)`);
    expect(await count('select count(*)::int as n from users')).toBe(0);
    expect(await count('select count(*)::int as n from blocks')).toBeGreaterThan(0);
    // The Prisma CLI reads the same bookkeeping.
    const status = await prisma(['migrate', 'status'], { databaseUrl: db.url });
    expect(status.code, status.output).toBe(0);
    expect(status.output).toContain('Database schema is up to date!');
  });
});
