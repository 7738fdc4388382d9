const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Every id column is a uuid: anything else cannot name a row, and must not reach the database as a uuid. */
export function isUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}
