/**
 * A block's ports, read from its JSON Schemas, and the compiled validators of its inputs. Schemas are compiled with
 * Ajv (strict: an unknown keyword is an error, not silently ignored) once per block version and kept, keyed by the
 * block's id and `updatedAt`: a compiled schema depends only on the schema, never on a request.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import { RE2JS } from 're2js';
import addFormatsModule from 'ajv-formats';
import { ALLOWED_FORMATS, portNamesOf, type JsonSchema } from './block-definition.js';
import { isJsonObject } from '../shared/input.js';

// ajv-formats is CommonJS; its default export arrives wrapped under ESM.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv, options: object) => Ajv;

/** The JSON Schema types a port may hold. */
export type PortType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array' | 'null';
const PORT_TYPES: readonly PortType[] = ['string', 'number', 'integer', 'boolean', 'object', 'array', 'null'];

export type BlockPort = {
  name: string;
  /** The types it holds; empty when it holds anything (no `type` in its schema). */
  types: PortType[];
  /** An input a run needs (the schema's `required`); always false for outputs. */
  required: boolean;
  description: string | null;
  schema: JsonSchema;
  /** An output kept for later runs (`staticOutputs`); always false for inputs. */
  isStatic: boolean;
};

type PortsSource = { inputSchema: unknown; outputSchema: unknown; staticOutputs: readonly string[] };

/** The types a schema admits: its `type`, else those of its `enum`/`const` values, else the union of `anyOf`/`oneOf`. */
export function typesOf(schema: unknown): PortType[] {
  if (!isJsonObject(schema)) return [];
  const declared = schema.type;
  if (typeof declared === 'string') return PORT_TYPES.includes(declared as PortType) ? [declared as PortType] : [];
  if (Array.isArray(declared)) return PORT_TYPES.filter((t) => declared.includes(t));
  const values = Array.isArray(schema.enum) ? schema.enum : 'const' in schema ? [schema.const] : null;
  if (values) return PORT_TYPES.filter((t) => values.some((v) => valueType(v) === t || (t === 'number' && valueType(v) === 'integer')));
  const branches = Array.isArray(schema.anyOf) ? schema.anyOf : Array.isArray(schema.oneOf) ? schema.oneOf : null;
  if (branches) {
    const each = branches.map(typesOf);
    // One branch that admits anything makes the union anything.
    return each.some((types) => types.length === 0) ? [] : PORT_TYPES.filter((t) => each.some((types) => types.includes(t)));
  }
  return [];
}

function valueType(value: unknown): PortType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value as PortType;
}

function portsOfSide(schema: unknown, side: 'input' | 'output', statics: readonly string[]): BlockPort[] {
  if (!isJsonObject(schema) || !isJsonObject(schema.properties)) return [];
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  return portNamesOf(schema).map((name) => {
    const port = (schema.properties as Record<string, unknown>)[name];
    const portSchema = isJsonObject(port) ? port : {};
    return {
      name,
      types: typesOf(portSchema),
      required: side === 'input' && required.has(name),
      description: typeof portSchema.description === 'string' ? portSchema.description : null,
      schema: portSchema,
      isStatic: side === 'output' && statics.includes(name),
    };
  });
}

export const inputPortsOf = (block: PortsSource) => portsOfSide(block.inputSchema, 'input', []);
export const outputPortsOf = (block: PortsSource) => portsOfSide(block.outputSchema, 'output', block.staticOutputs);

/** `pattern` and `patternProperties` run on RE2 (linear time): a catalogue's pattern cannot backtrack catastrophically. */
const re2 = Object.assign((pattern: string) => RE2JS.compile(pattern), { code: 'RE2JS.compile' });

function newAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true, messages: true, code: { regExp: re2 } });
  addFormats(ajv, { mode: 'fast', formats: [...ALLOWED_FORMATS] });
  return ajv;
}

/** One Ajv per process for compiling: it keeps nothing but compiled schemas, which `compiled` below owns. */
let sharedAjv: Ajv | null = null;
const compiled = new Map<string, ValidateFunction>();
const MAX_COMPILED = 5_000;

/**
 * Why Ajv refuses each schema (empty when it compiles them all), without keeping them: the sync's check. One Ajv
 * for the lot: making an Ajv with its formats costs more than compiling a port schema.
 */
export function compileProblems(schemas: ReadonlyArray<{ schema: JsonSchema; where: string }>): string[] {
  const ajv = newAjv();
  const problems: string[] = [];
  for (const { schema, where } of schemas) {
    try {
      ajv.compile(schema);
    } catch (err) {
      problems.push(`${where} is not a valid JSON Schema: ${(err as Error).message}`);
    }
  }
  return problems;
}

/** The validator of one port's values, compiled once per block version. */
export function portValidator(block: { id: string; updatedAt: Date }, port: BlockPort): ValidateFunction {
  const key = `${block.id}:${block.updatedAt.getTime()}:${port.name}`;
  let validate = compiled.get(key);
  if (!validate) {
    sharedAjv ??= newAjv();
    validate = sharedAjv.compile(port.schema);
    if (compiled.size >= MAX_COMPILED) {
      compiled.clear();
      sharedAjv = newAjv();
    }
    compiled.set(key, validate);
  }
  return validate;
}
