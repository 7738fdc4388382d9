/** Puts rows in the order of the ids asked for (null where missing), as DataLoader batch functions must. */
export function alignById<T extends { id: string }>(ids: readonly string[], rows: readonly T[]): Array<T | null> {
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => byId.get(id) ?? null);
}
