import { badUserInput } from '../../errors.js';
import { isUuid } from './ids.js';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** Validates `first`: absent means the default; zero is allowed (counts only); over the cap is refused. */
export function pageSize(first: number | null | undefined): number {
  if (first === null || first === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 0) throw badUserInput('`first` must be a non-negative integer.', 'first');
  if (first > MAX_PAGE_SIZE) throw badUserInput(`\`first\` may be at most ${MAX_PAGE_SIZE}.`, 'first');
  return first;
}

/** A non-negative whole number, or null for anything else (an argument's value as the cost model reads it). */
export const wholeNumber = (value: unknown): number | null => (typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : null);

/**
 * The most rows a page can hold, for the cost model (before resolvers run): `first` or `last` (the larger if both),
 * the default when neither is a whole number; over the cap `pageSize` refuses it, so the cap bounds it here.
 */
export function pageBound(args: { first?: unknown; last?: unknown }): number {
  const first = wholeNumber(args.first);
  const last = wholeNumber(args.last);
  if (first === null && last === null) return DEFAULT_PAGE_SIZE;
  return Math.min(MAX_PAGE_SIZE, Math.max(first ?? 0, last ?? 0));
}

/** The kinds of value a cursor may carry; each is checked on the way in, so a forged cursor never reaches SQL. */
export type CursorField = 'string' | 'int' | 'date' | 'uuid';
type CursorValue<F extends CursorField> = F extends 'int' ? number : F extends 'date' ? Date : string;
export type CursorValues<F extends readonly CursorField[]> = { [K in keyof F]: F[K] extends CursorField ? CursorValue<F[K]> : never };

const INT32_MAX = 2_147_483_647;

export const invalidCursor = () => badUserInput('The cursor is invalid or belongs to another ordering.', 'after');

/**
 * Cursors are opaque to clients: base64url of a JSON array of the keyset values of the row, tagged with the
 * order they belong to so a cursor from one ordering cannot be replayed against another.
 */
export function encodeCursor(order: string, values: ReadonlyArray<string | number | Date>): string {
  return Buffer.from(JSON.stringify([order, ...values.map((v) => (v instanceof Date ? v.toISOString() : v))])).toString('base64url');
}

function decodeValue(value: unknown, field: CursorField): string | number | Date {
  switch (field) {
    case 'int':
      if (typeof value === 'number' && Number.isInteger(value) && Math.abs(value) <= INT32_MAX) return value;
      break;
    case 'date': {
      // Only dates PostgreSQL's timestamptz can hold and our own cursors produce.
      const date = typeof value === 'string' ? new Date(value) : null;
      if (date && !Number.isNaN(date.getTime()) && date.getUTCFullYear() >= 1 && date.getUTCFullYear() <= 9999) return date;
      break;
    }
    case 'uuid':
      if (typeof value === 'string' && isUuid(value)) return value;
      break;
    case 'string':
      if (typeof value === 'string' && value.length <= 1_000 && value.isWellFormed() && !value.includes('\u0000')) return value;
      break;
  }
  throw invalidCursor();
}

export function decodeCursor<const F extends readonly CursorField[]>(cursor: string, order: string, fields: F): CursorValues<F> {
  if (cursor.length > 2_048 || !/^[A-Za-z0-9_-]*$/.test(cursor)) throw invalidCursor();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (!Array.isArray(parsed) || parsed.length !== fields.length + 1 || parsed[0] !== order) throw invalidCursor();
  return fields.map((field, i) => decodeValue(parsed[i + 1], field)) as CursorValues<F>;
}
