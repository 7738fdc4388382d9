/**
 * Operator commands for the statistics rollups:
 *
 *   npm run stats:verify [-- --from <ISO date> --to <ISO date>]   recompute a range from raw rows and compare
 *   npm run stats:backfill [-- --batch <rows>]                     count rows stored before the rollups existed
 *
 * On DATABASE_URL (PostgreSQL) or, without it, the embedded PGlite database. `verify` compares every rollup row whose
 * span starts in [from, to) (default: all of them) with the same figures recomputed from the runs and node executions,
 * each table in one statement (one snapshot), and exits 1 on any difference. The server back-fills by itself at boot;
 * `backfill` does the same in the foreground.
 */
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { assertMigrationsApplied } from '../db/migrations.js';
import { backfillRollups } from '../modules/stats/rollup-backfill.js';
import { rollupsComplete } from '../modules/stats/rollup-store.js';
import { verifyRollups } from '../modules/stats/rollup-verify.js';
import { commandDatabaseConfig, parsedArguments, runIfEntryPoint } from './run-main.js';

const usage = 'Usage: npm run stats:verify [-- --from <ISO date> --to <ISO date>] | npm run stats:backfill [-- --batch <rows>]';

type Options = { command: 'verify' | 'backfill'; from: Date; to: Date; batch: number };

export function parseArgs(argv: string[]): Options {
  const [command, ...rest] = argv;
  if (command !== 'verify' && command !== 'backfill') throw new Error(`Unknown command ${command ?? '(none)'}.`);
  const options: Options = { command, from: new Date('2001-01-01T00:00:00Z'), to: new Date(Date.now() + 8 * 86_400_000), batch: 5_000 };
  for (let i = 0; i < rest.length; i++) {
    const name = rest[i]!;
    const value = rest[++i];
    if (value === undefined) throw new Error(`${name} needs a value.`);
    if (name === '--from' || name === '--to') {
      const date = new Date(value);
      if (Number.isNaN(date.getTime())) throw new Error(`${name} takes an ISO date such as 2026-01-01, not "${value}".`);
      options[name === '--from' ? 'from' : 'to'] = date;
    } else if (name === '--batch') {
      const batch = Number(value);
      if (!Number.isInteger(batch) || batch < 1 || batch > 100_000) throw new Error('--batch takes an integer between 1 and 100000.');
      options.batch = batch;
    } else throw new Error(`Unknown argument ${name}.`);
  }
  if (options.to <= options.from) throw new Error('--to must be after --from.');
  return options;
}

export async function main(argv = process.argv.slice(2)): Promise<number> {
  const options = parsedArguments(parseArgs, argv, usage);
  if (!options) return 2;
  // Whole-table comparisons and batched back-fills run as long as they need: no statement timeout (the server has one).
  const db = await openDatabase(commandDatabaseConfig(loadConfig().database, { statementTimeoutMs: 0 }), { purpose: `npm run stats:${options.command}` });
  try {
    await assertMigrationsApplied(db);
    const started = Date.now();
    if (options.command === 'backfill') {
      const progress = await backfillRollups(db.sql, { batchSize: options.batch, onBatch: (p) => process.stdout.write(`\r  … ${p.runs} runs, ${p.nodeExecutions} node executions counted`) });
      console.log(`\nBack-fill complete: ${progress.runs} runs and ${progress.nodeExecutions} node executions counted in ${Date.now() - started} ms.`);
      return 0;
    }
    if (!(await rollupsComplete(db.sql))) console.log('Note: the back-fill is not complete; rows it has not reached yet are not in the rollups.');
    const report = await verifyRollups(db.sql, options.from, options.to);
    const range = `${options.from.toISOString()} .. ${options.to.toISOString()}`;
    if (!report.mismatches.length) {
      console.log(`Rollups match the rows: ${report.rowsCompared} rollup rows compared over ${range} in ${Date.now() - started} ms.`);
      return 0;
    }
    console.log(`Rollups differ from the rows over ${range} (${report.rowsCompared} rows compared); first differences:`);
    for (const m of report.mismatches) console.log(`  ${m.table} ${JSON.stringify(m.key)}: rollups ${JSON.stringify(m.rollup)}, rows ${JSON.stringify(m.raw)}`);
    return 1;
  } catch (err) {
    console.error(`stats:${options.command} failed: ${(err as Error).message}`);
    return 1;
  } finally {
    await db.close();
  }
}

runIfEntryPoint(import.meta.url, () => main());
