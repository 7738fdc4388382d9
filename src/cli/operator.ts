/**
 * Operator commands: `npm run cli -- <command> [options]`.
 *
 *   user:create --email E [--name N] [--admin]
 *       Creates a user with one API key and prints `{ "userId", "apiKey", "email", "permissions" }` as JSON.
 *       The key is shown only now (only its hash is stored). Exit code 1 when the email is taken or invalid.
 *
 * Uses DATABASE_URL (PostgreSQL) or the embedded PGlite database. The embedded database is migrated on the
 * way (as at server boot); PostgreSQL must be migrated already (npm run db:migrate), or MIGRATE_ON_START=1.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { applyMigrations, assertMigrationsApplied } from '../db/migrations.js';
import { createUserWithApiKey, InvalidEmailError, normalizeEmail, UserExistsError } from '../seed/users.js';
import { commandDatabaseConfig, runIfEntryPoint } from './run-main.js';

const usage = `Usage: npm run cli -- user:create --email E [--name N] [--admin]`;

async function userCreate(argv: string[]): Promise<number> {
  let values: { email?: string; name?: string; admin: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: { email: { type: 'string' }, name: { type: 'string' }, admin: { type: 'boolean', default: false } },
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    return 2;
  }
  if (!values.email) {
    console.error(`user:create needs --email\n${usage}`);
    return 2;
  }
  try {
    normalizeEmail(values.email); // refuse bad input before opening the database
  } catch (error) {
    console.error(`Error: ${(error as Error).message}`);
    return 1;
  }
  const config = loadConfig();
  const db = await openDatabase(commandDatabaseConfig(config.database), { purpose: 'npm run cli -- user:create' });
  try {
    if (config.migrateOnStart) await applyMigrations(db);
    else await assertMigrationsApplied(db);
    const created = await createUserWithApiKey(db.prisma, { email: values.email, name: values.name, admin: values.admin });
    process.stdout.write(`${JSON.stringify({ userId: created.userId, apiKey: created.apiKey, email: created.email, permissions: created.permissions })}\n`);
    return 0;
  } catch (error) {
    if (error instanceof UserExistsError || error instanceof InvalidEmailError) {
      console.error(`Error: ${error.message}`);
      return 1;
    }
    throw error;
  } finally {
    await db.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'user:create':
      return userCreate(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(usage);
      return command === undefined ? 2 : 0;
    default:
      console.error(`Unknown command ${JSON.stringify(command)}\n${usage}`);
      return 2;
  }
}

runIfEntryPoint(import.meta.url, main);
