import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../src/db/database.js';
import { applyMigrations, migrationStatus } from '../src/db/migrations.js';
let t = Date.now();
const db = await openDatabase({ pgliteDataDir: 'memory://', poolMax: 1 });
console.log('open', Date.now() - t); t = Date.now();
console.log(await applyMigrations(db), Date.now() - t); t = Date.now();
console.log(await applyMigrations(db), Date.now() - t); t = Date.now();
console.log(await migrationStatus(db), Date.now() - t);
// failing migration
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mig-'));
fs.cpSync('prisma/migrations', dir, { recursive: true });
fs.mkdirSync(path.join(dir, '20990101000000_bad'));
fs.writeFileSync(path.join(dir, '20990101000000_bad/migration.sql'), 'CREATE TABLE "halfway" (id int);\nALTER TABLE "users" ADD COLUMN "x" INT;\nALTER TABLE "nope" ADD COLUMN "y" INT;\n');
try { await applyMigrations(db, { migrationsDir: dir }); } catch (e) { console.log('ERR', (e as Error).message); }
console.log(await migrationStatus(db, { migrationsDir: dir }));
console.log((await db.pglite.query(`select to_regclass('halfway') as t`)).rows);
try { await applyMigrations(db, { migrationsDir: dir }); } catch (e) { console.log('ERR2', (e as Error).message); }
await db.close();
