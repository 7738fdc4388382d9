/**
 * `npm run blocks:sync [-- --file my-blocks.json …]`: writes the built-in block catalogue, then each file given (a
 * deployment's own blocks), to the database of DATABASE_URL, or to the embedded one. Each file is a source of its own
 * (its `source`, else its name): a block that disappears from a file is disabled, never deleted. Idempotent;
 * `db:migrate` and the embedded boot sync the built-in catalogue themselves.
 */
import path from 'node:path';
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { assertMigrationsApplied } from '../db/migrations.js';
import { CatalogueError } from '../modules/blocks/block-definition.js';
import { describeSync, readCatalogueFile, syncBuiltInCatalogue, syncCatalogue } from '../modules/blocks/block-sync.js';
import { commandDatabaseConfig, runIfEntryPoint } from './run-main.js';

const usage = 'Usage: npm run blocks:sync [-- --file <catalogue.json> …]';

export async function main(argv: string[]): Promise<number> {
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--file' && argv[i + 1]) files.push(path.resolve(argv[++i]!));
    else {
      console.error(usage);
      return 2;
    }
  }
  // Every file is read and checked before anything is written.
  let catalogues;
  try {
    catalogues = files.map((file) => readCatalogueFile(file));
  } catch (err) {
    if (err instanceof CatalogueError) {
      console.error(err.message);
      return 1;
    }
    throw err;
  }
  const db = await openDatabase(commandDatabaseConfig(loadConfig().database), { purpose: 'npm run blocks:sync' });
  try {
    await assertMigrationsApplied(db);
    console.log(describeSync(await syncBuiltInCatalogue(db.prisma)));
    for (const catalogue of catalogues) console.log(describeSync(await syncCatalogue(db.prisma, catalogue)));
    return 0;
  } finally {
    await db.close();
  }
}

runIfEntryPoint(import.meta.url, main);
