import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { CatalogueError, parseCatalogue, type BlockDefinition } from '../../src/modules/blocks/block-definition.js';
import { BUILT_IN_CATALOGUE, readCatalogueFile, syncBuiltInCatalogue, syncCatalogue } from '../../src/modules/blocks/block-sync.js';
import { inputPortsOf, portValidator } from '../../src/modules/blocks/block-ports.js';
import { BLOCKS } from '../../src/seed/catalogue.js';
import { main as blocksSync } from '../../src/cli/blocks-sync.js';
import { createTestDatabase, testDatabaseKinds } from '../helpers/databases.js';

const builtIn = () => readCatalogueFile(BUILT_IN_CATALOGUE, 'agentgraph');

const block = (overrides: Partial<BlockDefinition> & Record<string, unknown> = {}) => ({
  id: '7d0c1f5e-3a52-4c1f-9d7e-5b0f3f2a9c11',
  name: 'MyBlock',
  nodeType: 'STANDARD',
  inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
  outputSchema: { type: 'object', properties: { result: { type: 'string' } } },
  ...overrides,
});

function writeFile(content: unknown): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'blocks-')), 'acme-blocks.json');
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

/** The problems a file is refused with (fails the test when it is accepted), and how long reading it took. */
function refusal(content: unknown): { problems: string[]; ms: number } {
  const started = performance.now();
  try {
    readCatalogueFile(writeFile(content));
  } catch (err) {
    if (!(err instanceof CatalogueError)) throw err;
    return { problems: err.problems, ms: performance.now() - started };
  }
  throw new Error('the file was accepted');
}

describe('the built-in catalogue', () => {
  it('parses, compiles, and holds the blocks the seeder draws from, with the same ports', () => {
    const catalogue = builtIn();
    expect(catalogue.blocks.length).toBeGreaterThanOrEqual(18);
    for (const kind of BLOCKS) {
      const entry = catalogue.blocks.find((b) => b.id === kind.id)!;
      expect(entry.name).toBe(kind.name);
      expect(entry.nodeType).toBe(kind.nodeType);
      expect(Object.keys(entry.inputSchema.properties as object)).toEqual(kind.inputs.map((port) => port.name));
      expect(Object.keys(entry.outputSchema.properties as object)).toEqual(kind.outputs.map((port) => port.name));
    }
  });
});

describe('hostile catalogue files are refused, fast, with every problem named', () => {
  const deep = (levels: number): Record<string, unknown> => (levels === 0 ? { type: 'string' } : { type: 'array', items: deep(levels - 1) });

  it.each([
    ['a schema nested 60 levels deep', { blocks: [block({ inputSchema: { type: 'object', properties: { x: deep(60) } } })] }, /nests deeper than 10/],
    ['an enum of 100,000 values', { blocks: [block({ inputSchema: { type: 'object', properties: { x: { enum: Array.from({ length: 100_000 }, (_, i) => i) } } } })] }, /characters; at most 32768|enum of 100000/],
    ['an enum of 600 values', { blocks: [block({ inputSchema: { type: 'object', properties: { x: { enum: Array.from({ length: 600 }, (_, i) => i) } } } })] }, /enum of 600 values/],
    ['a backreference (no linear-time engine runs it)', { blocks: [block({ inputSchema: { type: 'object', properties: { x: { type: 'string', pattern: '^(a+)\\1$' } } } })] }, /not a regular expression RE2 runs/],
    ['a lookahead in patternProperties', { blocks: [block({ inputSchema: { type: 'object', properties: { x: { type: 'object', patternProperties: { '(?=x)y': {} } } } } })] }, /not a regular expression RE2 runs/],
    ['an invalid pattern', { blocks: [block({ inputSchema: { type: 'object', properties: { x: { type: 'string', pattern: '([a-z' } } } })] }, /not a regular expression RE2 runs/],
    ['an over-long pattern', { blocks: [block({ inputSchema: { type: 'object', properties: { x: { type: 'string', pattern: 'a'.repeat(201) } } } })] }, /at most 200 characters/],
    ['an unknown format', { blocks: [block({ inputSchema: { type: 'object', properties: { x: { type: 'string', format: 'credit-card' } } } })] }, /format "credit-card"/],
    ['a remote $ref', { blocks: [block({ inputSchema: { type: 'object', properties: { x: { $ref: 'https://example.com/s.json' } } } })] }, /uses `\$ref`/],
    ['an unknown keyword (Ajv strict)', { blocks: [block({ inputSchema: { type: 'object', properties: { x: { type: 'string', maxLenght: 3 } } } })] }, /not a valid JSON Schema/],
    ['required naming no port', { blocks: [block({ inputSchema: { type: 'object', properties: {}, required: ['x'] } })] }, /`required` must list ports/],
    ['a static output that is no output', { blocks: [block({ staticOutputs: ['nope'] })] }, /staticOutputs/],
    ['a non-object side', { blocks: [block({ outputSchema: { type: 'string' } })] }, /must be `\{ "type": "object"/],
    ['a repeated id', { blocks: [block(), block({ name: 'Other' })] }, /repeats the id/],
    ['a bad node type and id', { blocks: [block({ id: 'not-a-uuid', nodeType: 'MAGIC' as never })] }, /`id` must be a UUID/],
    ['not JSON', '{ "blocks": [', /is not JSON/],
  ])('%s', (_name, content, expected) => {
    const { problems, ms } = refusal(content);
    expect(problems.join('\n')).toMatch(expected);
    expect(ms).toBeLessThan(1_000);
  });

  it('reports every problem of a file, not only the first', () => {
    const { problems } = refusal({ blocks: [block({ id: 'x' }), block({ id: '8d0c1f5e-3a52-4c1f-9d7e-5b0f3f2a9c11', name: '9bad', costPerRun: -1 })] });
    expect(problems.length).toBeGreaterThanOrEqual(3);
  });

  it('catastrophic patterns are accepted but run in linear time (RE2), on a long near-match', () => {
    const catalogue = readCatalogueFile(writeFile({ blocks: [block({ inputSchema: { type: 'object', properties: { x: { type: 'string', pattern: '^(a|aa)+$' }, y: { type: 'string', pattern: '^(a+)+$' } } } })] }));
    const definition = catalogue.blocks[0]!;
    const stored = { ...definition, updatedAt: new Date(0) };
    const near = `${'a'.repeat(20_000)}!`;
    for (const port of inputPortsOf(definition)) {
      const validate = portValidator(stored, port);
      const started = performance.now();
      expect(validate(near)).toBe(false);
      expect(validate('aaaa')).toBe(true);
      // A backtracking engine takes longer than the age of the universe on this input.
      expect(performance.now() - started).toBeLessThan(1_000);
    }
  });
});

describe.each(testDatabaseKinds)('syncing the catalogue on %s', (kind) => {
  let db: Database;
  beforeAll(async () => {
    db = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('is idempotent: a second sync writes nothing and keeps updatedAt', async () => {
    const before = await db.prisma.block.findMany({ orderBy: { id: 'asc' } });
    expect(before.length).toBe(builtIn().blocks.length);
    const outcome = await syncBuiltInCatalogue(db.prisma);
    expect(outcome).toMatchObject({ created: [], updated: [], disabled: [], unchanged: before.length });
    expect(await db.prisma.block.findMany({ orderBy: { id: 'asc' } })).toEqual(before);
  });

  it("a deployment's file adds its blocks; a block it drops is disabled, never deleted, and the built-in blocks stay", async () => {
    const first = { source: 'acme', blocks: [block(), block({ id: '9e0c1f5e-3a52-4c1f-9d7e-5b0f3f2a9c11', name: 'AcmeSecond', categories: ['ACME'] })] };
    expect(await syncCatalogue(db.prisma, parseCatalogue(first, 'acme'))).toMatchObject({ created: ['MyBlock', 'AcmeSecond'], disabled: [] });
    const changed = { source: 'acme', blocks: [block({ description: 'Now described', costPerRun: 3 })] };
    expect(await syncCatalogue(db.prisma, parseCatalogue(changed, 'acme'))).toMatchObject({ created: [], updated: ['MyBlock'], disabled: ['AcmeSecond'] });
    const dropped = await db.prisma.block.findUniqueOrThrow({ where: { name: 'AcmeSecond' } });
    expect(dropped.disabled).toBe(true);
    expect(await db.prisma.block.findUniqueOrThrow({ where: { name: 'MyBlock' } })).toMatchObject({ description: 'Now described', costPerRun: 3, source: 'acme', disabled: false });
    expect(await db.prisma.block.count({ where: { source: 'agentgraph', disabled: true } })).toBe(0);
    // Listed again, it is enabled again.
    expect(await syncCatalogue(db.prisma, parseCatalogue(first, 'acme'))).toMatchObject({ updated: ['MyBlock', 'AcmeSecond'] });
    expect((await db.prisma.block.findUniqueOrThrow({ where: { name: 'AcmeSecond' } })).disabled).toBe(false);
  });

  it('a file whose sync fails leaves the table as it was (one transaction)', async () => {
    const before = await db.prisma.block.findMany({ orderBy: { id: 'asc' } });
    // A new id with a name another block holds: the unique name refuses the second write.
    const clash = { source: 'clash', blocks: [block({ id: 'ae0c1f5e-3a52-4c1f-9d7e-5b0f3f2a9c11', name: 'Fresh' }), block({ id: 'be0c1f5e-3a52-4c1f-9d7e-5b0f3f2a9c11', name: 'AITextGeneratorBlock' })] };
    await expect(syncCatalogue(db.prisma, parseCatalogue(clash, 'clash'))).rejects.toThrow();
    expect(await db.prisma.block.findMany({ orderBy: { id: 'asc' } })).toEqual(before);
  });
});

describe('npm run blocks:sync', () => {
  it('refuses a hostile file before writing anything (exit 1), and syncs a good one', async () => {
    const errors: string[] = [];
    const logs: string[] = [];
    const error = console.error;
    const log = console.log;
    console.error = (...args: unknown[]) => void errors.push(args.join(' '));
    console.log = (...args: unknown[]) => void logs.push(args.join(' '));
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'blocks-cli-'));
    const env = { DATABASE_URL: process.env.DATABASE_URL, PGLITE_DATA_DIR: process.env.PGLITE_DATA_DIR };
    delete process.env.DATABASE_URL;
    process.env.PGLITE_DATA_DIR = dataDir;
    try {
      expect(await blocksSync(['--file', writeFile({ blocks: [block({ inputSchema: { type: 'object', properties: { x: { type: 'string', pattern: '^(a+)\\1$' } } } })] })])).toBe(1);
      expect(errors.join('\n')).toMatch(/not a regular expression RE2 runs/);
      // The embedded database must be migrated first: the refusal says how.
      const db = await createMigratedPglite(dataDir);
      await db.close();
      expect(await blocksSync(['--file', writeFile({ source: 'acme', blocks: [block()] })])).toBe(0);
      expect(logs.join('\n')).toMatch(/blocks of "acme": 1 created \(MyBlock\)/);
      expect(await blocksSync(['--file', writeFile({ source: 'acme', blocks: [block()] })])).toBe(0);
      expect(logs.at(-1)).toMatch(/blocks of "acme": 0 created, 0 updated, 0 disabled, 1 unchanged/);
    } finally {
      console.error = error;
      console.log = log;
      if (env.DATABASE_URL !== undefined) process.env.DATABASE_URL = env.DATABASE_URL;
      if (env.PGLITE_DATA_DIR !== undefined) process.env.PGLITE_DATA_DIR = env.PGLITE_DATA_DIR;
      else delete process.env.PGLITE_DATA_DIR;
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

async function createMigratedPglite(dataDir: string): Promise<Database> {
  const { openDatabase } = await import('../../src/db/database.js');
  const { applyMigrations } = await import('../../src/db/migrations.js');
  const db = await openDatabase({ pgliteDataDir: dataDir, poolMax: 1 });
  await applyMigrations(db);
  return db;
}
