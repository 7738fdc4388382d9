/**
 * Retention for agent sessions: deletes sessions (and their events) not updated for a while, in bounded batches.
 *
 *   npm run sessions:prune -- --older-than 30d [--app support-bot] [--batch 1000] [--dry-run]
 *
 * Works on DATABASE_URL (PostgreSQL) or, without it, the embedded PGlite database (PGLITE_DATA_DIR). Each batch of
 * sessions is one short transaction; their events go in chunks, so no statement holds locks on many rows for long.
 * The same store function backs the `deleteSessions` mutation.
 */
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { assertMigrationsApplied } from '../db/migrations.js';
import { deleteSessionsInBatches } from '../modules/sessions/session-store.js';
import { commandDatabaseConfig, parsedArguments, runIfEntryPoint } from './run-main.js';

const usage = 'Usage: npm run sessions:prune -- --older-than <N>d|<N>h [--app <appName>] [--batch <sessions per batch>] [--dry-run]';

export type PruneOptions = { olderThanMs: number; appName: string | null; batchSize: number; dryRun: boolean };

export function parseDuration(value: string): number {
  const match = /^(\d+)(d|h|m)$/.exec(value.trim());
  if (!match) throw new Error(`--older-than takes a duration like 30d, 12h or 45m, not "${value}".`);
  const unit = { d: 86_400_000, h: 3_600_000, m: 60_000 }[match[2] as 'd' | 'h' | 'm'];
  return Number(match[1]) * unit;
}

export function parseArgs(argv: string[]): PruneOptions {
  const options: PruneOptions = { olderThanMs: NaN, appName: null, batchSize: 1000, dryRun: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [name, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${name} needs a value.`);
      return v;
    };
    switch (name) {
      case '--older-than':
        options.olderThanMs = parseDuration(value());
        break;
      case '--app':
        options.appName = value();
        if (!options.appName) throw new Error('--app needs a non-empty app name.');
        break;
      case '--batch': {
        const batch = Number(value());
        if (!Number.isInteger(batch) || batch < 1 || batch > 100_000) throw new Error('--batch takes an integer between 1 and 100000.');
        options.batchSize = batch;
        break;
      }
      case '--dry-run':
        options.dryRun = true;
        break;
      case '--help':
      case '-h':
        console.log(usage);
        process.exit(0);
        break;
      default:
        throw new Error(`Unknown argument ${arg}.`);
    }
  }
  if (Number.isNaN(options.olderThanMs)) throw new Error('--older-than is required.');
  return options;
}

export async function main(argv = process.argv.slice(2)): Promise<number> {
  const options = parsedArguments(parseArgs, argv, usage);
  if (!options) return 2;
  const cutoff = new Date(Date.now() - options.olderThanMs);
  // Batched deletes of old data run as long as they need: no statement timeout (the server has one).
  const db = await openDatabase(commandDatabaseConfig(loadConfig().database, { statementTimeoutMs: 0 }), { purpose: 'npm run sessions:prune' });
  try {
    await assertMigrationsApplied(db);
    const started = Date.now();
    const scope = `sessions not updated since ${cutoff.toISOString()}${options.appName ? ` of app ${options.appName}` : ''}`;
    const result = await deleteSessionsInBatches(
      db.prisma,
      { appName: options.appName, updatedBefore: cutoff },
      {
        batchSize: options.batchSize,
        dryRun: options.dryRun,
        onBatch: (progress) => console.log(`  … ${progress.sessions} sessions, ${progress.events} events deleted`),
      },
    );
    const ms = Date.now() - started;
    if (options.dryRun) console.log(`Dry run: would delete ${result.sessions} sessions with ${result.events} events (${scope}).`);
    else console.log(`Deleted ${result.sessions} sessions with ${result.events} events (${scope}) in ${ms} ms.`);
    return 0;
  } catch (err) {
    console.error(`sessions:prune failed: ${(err as Error).message}`);
    return 1;
  } finally {
    await db.close();
  }
}

runIfEntryPoint(import.meta.url, () => main());
