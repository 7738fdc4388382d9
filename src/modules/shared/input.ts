import { badUserInput } from '../../errors.js';

/** A JSON object (not an array, not null). */
export const isJsonObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * PostgreSQL refuses NUL in text and jsonb, and jsonb refuses lone UTF-16 surrogates (invalid Unicode);
 * refusing them here turns a database error into a clear one.
 */
const storable = (value: string) => !value.includes('\u0000') && value.isWellFormed();

export function checkText(value: string, argument: string, options: { max: number; allowEmpty?: boolean }): string {
  if (!options.allowEmpty && value.trim().length === 0) throw badUserInput(`\`${argument}\` must not be empty.`, argument);
  if (value.length > options.max) throw badUserInput(`\`${argument}\` may be at most ${options.max} characters.`, argument);
  if (!storable(value)) throw badUserInput(`\`${argument}\` must not contain NUL characters or invalid Unicode.`, argument);
  return value;
}

/** An ILIKE pattern for "contains this text": LIKE wildcards in the text are literal characters, not patterns. */
export const containsPattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export function checkOptionalText(value: string | null | undefined, argument: string, max: number): string | null {
  return value === null || value === undefined ? null : checkText(value, argument, { max, allowEmpty: true });
}

/** Bounds a JSON argument's nesting and serialized size, and refuses unstorable strings anywhere in it. */
export function checkJson<T>(value: T, argument: string, options: { maxBytes: number; maxDepth?: number }): T {
  if (value === null || value === undefined) return value;
  const maxDepth = options.maxDepth ?? 32;
  // Iterative walk: a hostile, deeply nested value must not overflow the stack.
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [item, depth] = stack.pop()!;
    if (typeof item === 'string' && !storable(item)) {
      throw badUserInput(`\`${argument}\` must not contain NUL characters or invalid Unicode.`, argument);
    }
    if (item && typeof item === 'object') {
      if (depth > maxDepth) throw badUserInput(`\`${argument}\` may nest at most ${maxDepth} levels deep.`, argument);
      for (const [key, child] of Object.entries(item)) {
        if (!storable(key)) throw badUserInput(`\`${argument}\` must not contain NUL characters or invalid Unicode.`, argument);
        stack.push([child, depth + 1]);
      }
    }
  }
  // Measured after the walk has bounded the nesting JSON.stringify recurses through.
  const serialized = JSON.stringify(value);
  if (Buffer.byteLength(serialized) > options.maxBytes) {
    throw badUserInput(`\`${argument}\` may be at most ${options.maxBytes} bytes of JSON.`, argument);
  }
  return value;
}
