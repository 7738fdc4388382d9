import fs from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { createPgliteAdapterFactory } from '../src/db/schema-engine/adapters.js';
import { openSchemaEngine } from '../src/db/schema-engine/engine.js';
const t0 = Date.now();
const pglite = await PGlite.create('memory://');
console.log('pglite', Date.now() - t0);
const schemaPath = '/work/main/prisma/schema.prisma';
const h = await openSchemaEngine({ adapter: createPgliteAdapterFactory(pglite), datamodels: [[schemaPath, fs.readFileSync(schemaPath, 'utf8')]], onLog: (l) => console.error('LOG', l) });
console.log('engine', Date.now() - t0);
const r = await h.call('diff', { from: { tag: 'empty' }, to: { tag: 'schemaDatamodel', files: [{ path: schemaPath, content: fs.readFileSync(schemaPath, 'utf8') }] }, script: true, exitCode: null, filters: { externalTables: [], externalEnums: [] } });
console.log(r.exitCode, r.stdout?.slice(0, 300), Date.now() - t0);
try { await h.call('dbExecute', { datasourceType: { tag: 'url', url: 'x' }, script: 'select nonsense from nowhere' }); } catch (e) { console.log('ERR', e); }
await h.close(); await pglite.close();
