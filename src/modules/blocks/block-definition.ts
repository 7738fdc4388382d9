/**
 * What a block of the catalogue is, as a file states it (catalogue.json, or a deployment's own file given to
 * `npm run blocks:sync -- --file`), and the checks a definition passes before it is written or compiled. Port schemas
 * are JSON Schemas written by whoever runs the server, then applied to what API clients send: they are bounded (size,
 * depth, enums) and limited to keywords that cannot open a slow path: no remote `$ref`, no unknown `format`, and a
 * `pattern` must be short and is run by RE2 (re2js: linear time, whatever the pattern and the input), so a pattern
 * RE2 does not support (backreferences, lookarounds) is refused here rather than run by a backtracking engine.
 */
import { RE2JS } from 're2js';
import type { NodeType } from '../../generated/prisma/client.js';
import { isJsonObject } from '../shared/input.js';

export type JsonSchema = Record<string, unknown>;

export type BlockDefinition = {
  id: string;
  name: string;
  description: string;
  categories: string[];
  nodeType: NodeType;
  inputSchema: JsonSchema;
  outputSchema: JsonSchema;
  staticOutputs: string[];
  costPerRun: number;
  disabled: boolean;
};

export type CatalogueFile = { source: string; blocks: BlockDefinition[] };

export const BLOCK_SCHEMA_LIMITS = {
  /** Serialized size of one port schema (input or output), in characters. */
  schemaCharacters: 32_768,
  /** Nesting of objects and arrays inside one schema. */
  depth: 10,
  /** Values of one `enum`. */
  enumValues: 500,
  /** Ports on one side of a block. */
  ports: 100,
  /** Characters of one `pattern`. */
  patternCharacters: 200,
  /** Blocks in one file. */
  blocks: 2_000,
} as const;

/** Formats checked with ajv-formats' fast (linear) expressions; any other `format` is refused. */
export const ALLOWED_FORMATS = ['date-time', 'date', 'time', 'email', 'uri', 'uuid', 'hostname', 'ipv4', 'ipv6'] as const;

const NODE_TYPES: readonly NodeType[] = ['STANDARD', 'INPUT', 'OUTPUT', 'WEBHOOK'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BLOCK_NAME = /^[A-Za-z][A-Za-z0-9_]{0,99}$/;
const PORT_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;
const SOURCE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
/** Keywords that reach outside the schema or make it recursive: a port schema is self-contained. */
const REFUSED_KEYWORDS = new Set(['$ref', '$dynamicRef', '$recursiveRef', '$id', '$anchor', '$dynamicAnchor', '$schema', '$defs', 'definitions']);

/** Every problem of one port schema (an empty list when it may be compiled). */
function schemaProblems(schema: unknown, where: string): string[] {
  const problems: string[] = [];
  if (!isJsonObject(schema)) return [`${where} must be a JSON object (a JSON Schema).`];
  const text = JSON.stringify(schema);
  if (text.length > BLOCK_SCHEMA_LIMITS.schemaCharacters) return [`${where} is ${text.length} characters; at most ${BLOCK_SCHEMA_LIMITS.schemaCharacters} are allowed.`];
  const walk = (value: unknown, path: string, depth: number): void => {
    if (problems.length >= 20) return;
    if (depth > BLOCK_SCHEMA_LIMITS.depth) {
      problems.push(`${where} nests deeper than ${BLOCK_SCHEMA_LIMITS.depth} levels at ${path}.`);
      return;
    }
    if (Array.isArray(value)) return value.forEach((item, i) => walk(item, `${path}/${i}`, depth + 1));
    if (!isJsonObject(value)) return;
    for (const [keyword, child] of Object.entries(value)) {
      const at = `${path}/${keyword}`;
      if (REFUSED_KEYWORDS.has(keyword)) problems.push(`${where} uses \`${keyword}\` at ${at}: port schemas must be self-contained.`);
      else if (keyword === 'enum' && Array.isArray(child) && child.length > BLOCK_SCHEMA_LIMITS.enumValues) {
        problems.push(`${where} has an enum of ${child.length} values at ${at}; at most ${BLOCK_SCHEMA_LIMITS.enumValues} are allowed.`);
      } else if (keyword === 'format' && typeof child === 'string' && !(ALLOWED_FORMATS as readonly string[]).includes(child)) {
        problems.push(`${where} uses the format "${child}" at ${at}; allowed: ${ALLOWED_FORMATS.join(', ')}.`);
      } else if (keyword === 'pattern' && typeof child === 'string') {
        problems.push(...patternProblems(child, `${where} ${at}`));
      } else if (keyword === 'patternProperties' && isJsonObject(child)) {
        for (const pattern of Object.keys(child)) problems.push(...patternProblems(pattern, `${where} ${at}`));
      }
      walk(child, at, depth + 1);
    }
  };
  walk(schema, '#', 0);
  return problems;
}

function patternProblems(pattern: string, where: string): string[] {
  if (pattern.length > BLOCK_SCHEMA_LIMITS.patternCharacters) return [`${where}: a pattern may be at most ${BLOCK_SCHEMA_LIMITS.patternCharacters} characters.`];
  try {
    RE2JS.compile(pattern);
  } catch (err) {
    return [`${where}: "${pattern}" is not a regular expression RE2 runs (${(err as Error).message}).`];
  }
  return [];
}

/** The ports of a side: its `properties`, in order. */
export function portNamesOf(schema: JsonSchema): string[] {
  return isJsonObject(schema.properties) ? Object.keys(schema.properties) : [];
}

function sideProblems(schema: unknown, where: string): string[] {
  const problems = schemaProblems(schema, where);
  if (problems.length > 0 || !isJsonObject(schema)) return problems;
  if (schema.type !== 'object' || !isJsonObject(schema.properties)) return [`${where} must be \`{ "type": "object", "properties": { <port>: <schema>, … } }\`.`];
  const ports = portNamesOf(schema);
  if (ports.length > BLOCK_SCHEMA_LIMITS.ports) problems.push(`${where} has ${ports.length} ports; at most ${BLOCK_SCHEMA_LIMITS.ports} are allowed.`);
  for (const port of ports) if (!PORT_NAME.test(port)) problems.push(`${where}: "${port}" is not a port name (letters, digits and _, at most 100).`);
  const required = schema.required ?? [];
  if (!Array.isArray(required) || required.some((name) => typeof name !== 'string' || !ports.includes(name))) {
    problems.push(`${where}: \`required\` must list ports of its \`properties\`.`);
  }
  return problems;
}

/** Every problem of a definition as read from a file (an empty list when it may be synced). */
export function definitionProblems(value: unknown, index: number): string[] {
  const at = `blocks[${index}]`;
  if (!isJsonObject(value)) return [`${at} must be an object.`];
  const problems: string[] = [];
  const name = typeof value.name === 'string' ? value.name : '';
  const label = name ? `${at} (${name})` : at;
  if (typeof value.id !== 'string' || !UUID.test(value.id)) problems.push(`${label}: \`id\` must be a UUID.`);
  if (!BLOCK_NAME.test(name)) problems.push(`${label}: \`name\` must be a letter then letters, digits or _ (at most 100).`);
  if (value.description !== undefined && (typeof value.description !== 'string' || value.description.length > 5_000)) problems.push(`${label}: \`description\` must be a string of at most 5,000 characters.`);
  const categories = value.categories ?? [];
  if (!Array.isArray(categories) || categories.length > 20 || categories.some((c) => typeof c !== 'string' || !/^[A-Z][A-Z0-9_]{0,49}$/.test(c))) {
    problems.push(`${label}: \`categories\` must be at most 20 names in capitals (AI, TEXT, …).`);
  }
  if (!NODE_TYPES.includes(value.nodeType as NodeType)) problems.push(`${label}: \`nodeType\` must be one of ${NODE_TYPES.join(', ')}.`);
  problems.push(...sideProblems(value.inputSchema, `${label} inputSchema`), ...sideProblems(value.outputSchema, `${label} outputSchema`));
  const outputs = isJsonObject(value.outputSchema) ? portNamesOf(value.outputSchema) : [];
  const statics = value.staticOutputs ?? [];
  if (!Array.isArray(statics) || statics.some((port) => typeof port !== 'string' || !outputs.includes(port))) problems.push(`${label}: \`staticOutputs\` must list output ports.`);
  const cost = value.costPerRun ?? 0;
  if (!Number.isInteger(cost) || (cost as number) < 0 || (cost as number) > 1_000_000) problems.push(`${label}: \`costPerRun\` must be a whole number from 0 to 1,000,000.`);
  if (value.disabled !== undefined && typeof value.disabled !== 'boolean') problems.push(`${label}: \`disabled\` must be true or false.`);
  return problems;
}

/** A catalogue file's blocks, checked; throws with every problem found. `source` names whose blocks these are. */
export function parseCatalogue(value: unknown, fallbackSource: string): CatalogueFile {
  const file = isJsonObject(value) ? value : {};
  const blocks = Array.isArray(file.blocks) ? file.blocks : null;
  const source = typeof file.source === 'string' ? file.source : fallbackSource;
  const problems: string[] = [];
  if (!blocks) problems.push('A catalogue file is `{ "source"?: <name>, "blocks": [ … ] }`.');
  else if (blocks.length > BLOCK_SCHEMA_LIMITS.blocks) problems.push(`A catalogue file may hold at most ${BLOCK_SCHEMA_LIMITS.blocks} blocks.`);
  if (!SOURCE_NAME.test(source)) problems.push(`"${source}" is not a source name (letters, digits, _ . -).`);
  if (blocks && problems.length === 0) {
    blocks.forEach((block, i) => problems.push(...definitionProblems(block, i)));
    const seen = new Map<string, number>();
    blocks.forEach((block, i) => {
      for (const key of [`id ${(block as BlockDefinition).id}`, `name ${(block as BlockDefinition).name}`]) {
        if (seen.has(key)) problems.push(`blocks[${i}] repeats the ${key} of blocks[${seen.get(key)}].`);
        else seen.set(key, i);
      }
    });
  }
  if (problems.length > 0) throw new CatalogueError(problems);
  return {
    source,
    blocks: (blocks as Array<Record<string, unknown>>).map((block) => ({
      id: (block.id as string).toLowerCase(),
      name: block.name as string,
      description: (block.description as string | undefined) ?? '',
      categories: (block.categories as string[] | undefined) ?? [],
      nodeType: block.nodeType as NodeType,
      inputSchema: block.inputSchema as JsonSchema,
      outputSchema: block.outputSchema as JsonSchema,
      staticOutputs: (block.staticOutputs as string[] | undefined) ?? [],
      costPerRun: (block.costPerRun as number | undefined) ?? 0,
      disabled: (block.disabled as boolean | undefined) ?? false,
    })),
  };
}

export class CatalogueError extends Error {
  constructor(readonly problems: string[]) {
    super(`The block catalogue has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n- ${problems.slice(0, 50).join('\n- ')}`);
    this.name = 'CatalogueError';
  }
}
