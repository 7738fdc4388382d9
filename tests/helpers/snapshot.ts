import type { Database } from '../../src/db/database.js';

const TABLES = ['users', 'api_keys', 'blocks', 'graphs', 'nodes', 'links', 'graph_executions', 'node_executions', 'sessions', 'session_events'];

/**
 * A fingerprint of every data table (row count and an md5 over the ordered rows), for asserting that a refused
 * operation changed nothing. `api_keys.last_used_at` moves with every authenticated request, so it is left out.
 */
export async function snapshotDatabase(db: Database): Promise<Record<string, string>> {
  const snapshot: Record<string, string> = {};
  for (const table of TABLES) {
    const projection = table === 'api_keys' ? `(t.id, t.status, t.permissions, t.revoked_at, t.name, t.secret_hash)::text` : 't::text';
    const rows = await db.prisma.$queryRawUnsafe<Array<{ n: bigint; digest: string | null }>>(
      `SELECT count(*) AS n, md5(string_agg(${projection}, '|' ORDER BY ${projection})) AS digest FROM ${table} t`,
    );
    snapshot[table] = `${rows[0]?.n}:${rows[0]?.digest}`;
  }
  return snapshot;
}
