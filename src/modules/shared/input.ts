import { badUserInput } from '../../errors.js';

/** PostgreSQL refuses NUL in text and jsonb; refusing it here turns a database error into a clear one. */
const hasNul = (value: string) => value.includes('\u0000');

export function checkText(value: string, argument: string, options: { max: number; allowEmpty?: boolean }): string {
  if (!options.allowEmpty && value.trim().length === 0) throw badUserInput(`\`${argument}\` must not be empty.`, argument);
  if (value.length > options.max) throw badUserInput(`\`${argument}\` may be at most ${options.max} characters.`, argument);
  if (hasNul(value)) throw badUserInput(`\`${argument}\` must not contain NUL characters.`, argument);
  return value;
}

export function checkOptionalText(value: string | null | undefined, argument: string, max: number): string | null {
  return value === null || value === undefined ? null : checkText(value, argument, { max, allowEmpty: true });
}

/** Bounds a JSON argument's serialized size and nesting, and refuses NUL characters anywhere in it. */
export function checkJson<T>(value: T, argument: string, options: { maxBytes: number; maxDepth?: number }): T {
  if (value === null || value === undefined) return value;
  const serialized = JSON.stringify(value);
  if (Buffer.byteLength(serialized) > options.maxBytes) {
    throw badUserInput(`\`${argument}\` may be at most ${options.maxBytes} bytes of JSON.`, argument);
  }
  if (serialized.includes('\\u0000')) throw badUserInput(`\`${argument}\` must not contain NUL characters.`, argument);
  if (jsonDepth(value) > (options.maxDepth ?? 32)) {
    throw badUserInput(`\`${argument}\` may nest at most ${options.maxDepth ?? 32} levels deep.`, argument);
  }
  return value;
}

function jsonDepth(value: unknown): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [item, depth] = stack.pop()!;
    if (item && typeof item === 'object') {
      max = Math.max(max, depth);
      for (const child of Object.values(item)) stack.push([child, depth + 1]);
    }
  }
  return max;
}
