/** Puts rows in the order of the ids asked for (null where missing), as DataLoader batch functions must. */
export function alignById<T extends { id: string }>(ids: readonly string[], rows: readonly T[]): Array<T | null> {
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => byId.get(id) ?? null);
}

/** Rows grouped by a key, each group in the rows' order. */
export function groupBy<T>(rows: readonly T[], keyOf: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const key = keyOf(row);
    const group = groups.get(key);
    if (group) group.push(row);
    else groups.set(key, [row]);
  }
  return groups;
}

/**
 * Rows grouped into one array per key asked for, in the order of the keys ([] where none), as DataLoader batch
 * functions must. Keys asked twice share their array; rows whose key was not asked for are dropped.
 */
export function groupAligned<T, K>(rows: readonly T[], keys: readonly K[], keyOfRow: (row: T) => string, keyOfKey: (key: K) => string): T[][] {
  const groups = groupBy(rows, keyOfRow);
  return keys.map((key) => groups.get(keyOfKey(key)) ?? []);
}
