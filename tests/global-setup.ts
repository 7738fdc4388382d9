import pg from 'pg';
import { POSTGRES_ADMIN_URL, testDatabaseKinds } from './helpers/databases.js';

/** Fails fast when PostgreSQL is in the matrix but unreachable, and says which databases the run covers. */
export default async function setup() {
  if (testDatabaseKinds.length === 0) throw new Error('TEST_DATABASES names no known database (pglite, postgres).');
  if (testDatabaseKinds.includes('postgres')) {
    const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 5_000 });
    try {
      await client.connect();
      const { rows } = await client.query<{ version: string }>('show server_version');
      console.log(`[agentgraph tests] PostgreSQL ${rows[0]?.version} at ${new URL(POSTGRES_ADMIN_URL).host}`);
    } catch (err) {
      throw new Error(`PostgreSQL is in TEST_DATABASES but ${POSTGRES_ADMIN_URL} is unreachable: ${(err as Error).message}`);
    } finally {
      await client.end().catch(() => {});
    }
  }
  console.log(`[agentgraph tests] databases covered: ${testDatabaseKinds.join(', ')}`);
  return () => console.log(`[agentgraph tests] databases covered: ${testDatabaseKinds.join(', ')}`);
}
