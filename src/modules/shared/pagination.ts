import { badUserInput } from '../../errors.js';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** Validates `first`: absent means the default; zero is allowed (counts only); over the cap is refused. */
export function pageSize(first: number | null | undefined): number {
  if (first === null || first === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 0) throw badUserInput('`first` must be a non-negative integer.', 'first');
  if (first > MAX_PAGE_SIZE) throw badUserInput(`\`first\` may be at most ${MAX_PAGE_SIZE}.`, 'first');
  return first;
}

/**
 * Cursors are opaque to clients: base64url of a JSON array of the keyset values of the row, tagged with the
 * order they belong to so a cursor from one ordering cannot be replayed against another.
 */
export function encodeCursor(order: string, values: ReadonlyArray<string | number>): string {
  return Buffer.from(JSON.stringify([order, ...values])).toString('base64url');
}

export const invalidCursor = () => badUserInput('The cursor is invalid or belongs to another ordering.', 'after');

export function decodeCursor(cursor: string, order: string, types: ReadonlyArray<'string' | 'number'>): Array<string | number> {
  const invalid = invalidCursor;
  if (cursor.length > 512 || !/^[A-Za-z0-9_-]*$/.test(cursor)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parsed) || parsed.length !== types.length + 1 || parsed[0] !== order) throw invalid();
  const values = parsed.slice(1) as unknown[];
  values.forEach((value, i) => {
    if (typeof value !== types[i]) throw invalid();
    if (typeof value === 'number' && !Number.isFinite(value)) throw invalid();
  });
  return values as Array<string | number>;
}
