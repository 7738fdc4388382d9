import pg from 'pg';
import { POSTGRES_ADMIN_URL, testDatabaseKinds } from './helpers/databases.js';

/** Fails fast when PostgreSQL is in the matrix but unreachable, and says which databases (and versions) the run covers. */
export default async function setup() {
  if (testDatabaseKinds.length === 0) throw new Error('TEST_DATABASES names no known database (pglite, postgres).');
  if (testDatabaseKinds.includes('postgres')) {
    const version = await postgresVersion();
    console.log(`[agentgraph tests] PostgreSQL ${version} at ${new URL(POSTGRES_ADMIN_URL).host}`);
  }
  console.log(`[agentgraph tests] databases covered: ${testDatabaseKinds.join(', ')}`);
  return () => console.log(`[agentgraph tests] databases covered: ${testDatabaseKinds.join(', ')}`);
}

/** The server's version, e.g. `15.20 (Debian 15.20-0+deb12u1)`. */
async function postgresVersion(): Promise<string> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    // SHOW answers one column named after the setting.
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    return rows[0]!.server_version;
  } catch (err) {
    throw new Error(`PostgreSQL is in TEST_DATABASES but ${POSTGRES_ADMIN_URL} is unreachable: ${(err as Error).message}`);
  } finally {
    await client.end().catch(() => {});
  }
}
