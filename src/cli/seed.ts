/**
 * Seeds the configured database (DATABASE_URL, or the embedded PGlite database) with generated demo data:
 *
 *   npm run db:seed -- --users N --graphs-per-user N --executions N --sessions N --max-events N --seed N --days N
 *                      [--now ISO-DATE] [--append] [--json]
 *
 * Applies pending migrations first. Refuses a database that already has users unless --append. Prints the
 * created API keys (the admin's and a normal user's in the human summary; all of them with --json, which prints
 * exactly one JSON object on stdout — progress goes to stderr).
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { applyMigrations } from '../db/migrations.js';
import { syncBuiltInCatalogue } from '../modules/blocks/block-sync.js';
import { DEMO_SEED_OPTIONS, seedDatabase, type SeedOptions, type SeedSummary } from '../seed/index.js';
import { commandDatabaseConfig, runIfEntryPoint } from './run-main.js';

const usage = `Usage: npm run db:seed -- [--users N] [--graphs-per-user N] [--executions N] [--sessions N]
                        [--max-events N] [--seed N] [--days N] [--now ISO-DATE] [--append] [--json]
Defaults: ${JSON.stringify(DEMO_SEED_OPTIONS)}`;

class UsageError extends Error {}

function integer(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
  return Number(value);
}

export function parseSeedArgs(argv: string[]): { options: SeedOptions; json: boolean; append: boolean; help: boolean } {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      users: { type: 'string' },
      'graphs-per-user': { type: 'string' },
      executions: { type: 'string' },
      sessions: { type: 'string' },
      'max-events': { type: 'string' },
      seed: { type: 'string' },
      days: { type: 'string' },
      now: { type: 'string' },
      append: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  let now: number | undefined;
  if (values.now !== undefined) {
    now = Date.parse(values.now);
    if (Number.isNaN(now)) throw new UsageError(`--now must be a date (ISO 8601), got ${JSON.stringify(values.now)}`);
  }
  const days = values.days === undefined ? DEMO_SEED_OPTIONS.days : Number(values.days);
  if (!(days > 0)) throw new UsageError(`--days must be a positive number, got ${JSON.stringify(values.days)}`);
  return {
    options: {
      users: integer('users', values.users, DEMO_SEED_OPTIONS.users),
      graphsPerUser: integer('graphs-per-user', values['graphs-per-user'], DEMO_SEED_OPTIONS.graphsPerUser),
      executions: integer('executions', values.executions, DEMO_SEED_OPTIONS.executions),
      sessions: integer('sessions', values.sessions, DEMO_SEED_OPTIONS.sessions),
      maxEventsPerSession: integer('max-events', values['max-events'], DEMO_SEED_OPTIONS.maxEventsPerSession),
      seed: integer('seed', values.seed, DEMO_SEED_OPTIONS.seed),
      days,
      now,
    },
    json: values.json,
    append: values.append,
    help: values.help,
  };
}

function humanSummary(summary: SeedSummary, where: string, endpoint: string): string {
  const c = summary.counts;
  const admin = summary.apiKeys.find((k) => k.permissions.includes('ADMIN'));
  const user = summary.apiKeys.find((k) => !k.permissions.includes('ADMIN'));
  const lines = [
    `Seeded ${where} in ${(summary.durationMs / 1000).toFixed(1)} s:`,
    `  ${c.users} users, ${c.graphs} graphs (${c.graphVersions} versions, ${c.nodes} nodes, ${c.links} links)`,
    `  ${c.graphExecutions} graph executions, ${c.nodeExecutions} node executions`,
    `  ${c.sessions} sessions, ${c.sessionEvents} session events`,
    '',
    'API keys (shown only now — only their hashes are stored):',
  ];
  if (admin) lines.push(`  admin  ${admin.email}: ${admin.key}`);
  if (user) lines.push(`  user   ${user.email}: ${user.key}`);
  if (summary.apiKeys.length > 2) lines.push(`  (${summary.apiKeys.length - 2} more: run with --json to get all of them)`);
  if (admin) {
    lines.push(
      '',
      `Try: curl -s ${endpoint} -H 'Content-Type: application/json' -H 'Authorization: Bearer ${admin.key}' \\`,
      `       -d '{"query":"{ __typename }"}'`,
    );
  }
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  let args: ReturnType<typeof parseSeedArgs>;
  try {
    args = parseSeedArgs(argv);
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    return 2;
  }
  if (args.help) {
    console.log(usage);
    return 0;
  }
  const log = (msg: string) => console.error(msg);
  const config = loadConfig();
  const where = config.database.url ? 'PostgreSQL' : `PGlite at ${config.database.pgliteDataDir}`;
  // Bulk loads run as long as they need: no statement timeout (the server has one).
  const db = await openDatabase(commandDatabaseConfig(config.database, { statementTimeoutMs: 0 }), { purpose: 'npm run db:seed' });
  try {
    const { applied } = await applyMigrations(db);
    if (applied.length > 0) log(`Applied ${applied.length} migration(s): ${applied.join(', ')}`);
    await syncBuiltInCatalogue(db.prisma);
    const existing = await db.prisma.user.count();
    if (existing > 0 && !args.append) {
      console.error(
        `Refusing to seed: the database (${where}) already has ${existing} user(s). Seeding adds a second, unrelated ` +
          'data set next to existing data (and only the new users’ keys are printed). Pass --append to add it anyway, ' +
          'or start from an empty database (npm run db:reset).',
      );
      return 1;
    }
    const summary = await seedDatabase(db, args.options, log);
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ database: db.kind, options: { ...args.options, now: args.options.now ?? null }, ...summary })}\n`);
    } else {
      console.log(humanSummary(summary, where, `http://${config.host}:${config.port}/graphql`));
    }
    return 0;
  } finally {
    await db.close();
  }
}

runIfEntryPoint(import.meta.url, main);
