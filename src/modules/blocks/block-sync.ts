/**
 * Writes a catalogue file to the `blocks` table: `npm run db:migrate`, the embedded boot and `npm run blocks:sync`
 * run it. Idempotent (an unchanged block is not written, its `updatedAt` stays), in one transaction, and a block its
 * source's file no longer lists is disabled, never deleted: graphs keep referring to it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { runtimeAsset } from '../../config.js';
import type { Block, PrismaClient } from '../../generated/prisma/client.js';
import { CatalogueError, parseCatalogue, type BlockDefinition, type CatalogueFile } from './block-definition.js';
import { compileProblems } from './block-ports.js';

/** The built-in catalogue, shipped with the code (read from the sources also by a build in dist/). */
export const BUILT_IN_CATALOGUE = runtimeAsset('src/modules/blocks/catalogue.json');
export const BUILT_IN_SOURCE = 'agentgraph';

export type SyncOutcome = { source: string; created: string[]; updated: string[]; disabled: string[]; unchanged: number };

/** Reads and checks a catalogue file (size-limited: a catalogue is data, not a dump). */
export function readCatalogueFile(file: string, fallbackSource = path.basename(file, path.extname(file))): CatalogueFile {
  const { size } = fs.statSync(file);
  if (size > 8 * 1024 * 1024) throw new CatalogueError([`${file} is ${size} bytes; a catalogue file may be at most 8 MiB.`]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CatalogueError([`${file} is not JSON: ${(err as Error).message}`]);
  }
  const catalogue = parseCatalogue(parsed, fallbackSource);
  const problems = compileProblems(
    catalogue.blocks.flatMap((block) => (['inputSchema', 'outputSchema'] as const).map((side) => ({ schema: block[side], where: `${block.name} ${side}` }))),
  );
  if (problems.length > 0) throw new CatalogueError(problems);
  return catalogue;
}

/** JSON with object keys sorted: jsonb stores keys in its own order, so a schema read back differs in text only. */
const canonical = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(canonical)
    : value !== null && typeof value === 'object'
      ? Object.fromEntries(Object.keys(value).sort().map((key) => [key, canonical((value as Record<string, unknown>)[key])]))
      : value;
const sameJson = (a: unknown, b: unknown) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));

function differs(stored: Block, wanted: BlockDefinition, source: string): boolean {
  return (
    stored.name !== wanted.name ||
    stored.description !== wanted.description ||
    !sameJson(stored.categories, wanted.categories) ||
    stored.nodeType !== wanted.nodeType ||
    !sameJson(stored.inputSchema, wanted.inputSchema) ||
    !sameJson(stored.outputSchema, wanted.outputSchema) ||
    !sameJson(stored.staticOutputs, wanted.staticOutputs) ||
    stored.costPerRun !== wanted.costPerRun ||
    stored.disabled !== wanted.disabled ||
    stored.source !== source
  );
}

/**
 * Brings the table in line with one source's file. A block of another source with an id or name of this file is
 * taken over (ids are stable across files); names stay unique (the database refuses a rename onto a taken name).
 */
export async function syncCatalogue(prisma: PrismaClient, catalogue: CatalogueFile): Promise<SyncOutcome> {
  return prisma.$transaction(async (tx) => {
    // One sync at a time: two processes syncing at once would otherwise race on the unique names.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('agentgraph.blocks.sync'))`;
    const stored = new Map((await tx.block.findMany()).map((block) => [block.id, block]));
    const outcome: SyncOutcome = { source: catalogue.source, created: [], updated: [], disabled: [], unchanged: 0 };
    const listed = new Set(catalogue.blocks.map((block) => block.id));
    // Disable first: a block renamed in this file may take the name of one it no longer lists.
    for (const block of stored.values()) {
      if (block.source === catalogue.source && !listed.has(block.id) && !block.disabled) {
        await tx.block.update({ where: { id: block.id }, data: { disabled: true } });
        outcome.disabled.push(block.name);
      }
    }
    for (const wanted of catalogue.blocks) {
      const current = stored.get(wanted.id);
      const data = { ...wanted, inputSchema: wanted.inputSchema as object, outputSchema: wanted.outputSchema as object, source: catalogue.source };
      if (!current) {
        await tx.block.create({ data });
        outcome.created.push(wanted.name);
      } else if (differs(current, wanted, catalogue.source)) {
        await tx.block.update({ where: { id: wanted.id }, data });
        outcome.updated.push(wanted.name);
      } else outcome.unchanged++;
    }
    return outcome;
  });
}

let builtIn: CatalogueFile | null = null;
/** The built-in catalogue, read and checked once per process: it ships with the code. */
export const builtInCatalogue = (): CatalogueFile => (builtIn ??= readCatalogueFile(BUILT_IN_CATALOGUE, BUILT_IN_SOURCE));

/** The built-in catalogue, synced (what migrating and the embedded boot do). */
export const syncBuiltInCatalogue = (prisma: PrismaClient) => syncCatalogue(prisma, builtInCatalogue());

export function describeSync(outcome: SyncOutcome): string {
  const part = (label: string, names: string[]) => (names.length ? `${names.length} ${label} (${names.slice(0, 10).join(', ')}${names.length > 10 ? ', …' : ''})` : `0 ${label}`);
  return `blocks of "${outcome.source}": ${part('created', outcome.created)}, ${part('updated', outcome.updated)}, ${part('disabled', outcome.disabled)}, ${outcome.unchanged} unchanged`;
}
