import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { boot, bootBanner } from '../../src/server/boot.js';
import { createPostgresDatabase } from '../helpers/databases.js';

const log = pino({ level: 'silent' });
const config = (env: Record<string, string>) => loadConfig({ PORT: '0', HOST: '127.0.0.1', ...env }, ['node', 'main']);

const viewerOf = async (url: string, key: string) => {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query: '{ viewer { email } graphs { totalCount } }' }),
  });
  return (await res.json()) as { data?: { viewer: { email: string }; graphs: { totalCount: number } } };
};

describe('booting the server', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('on a new embedded database: migrates, seeds demo data once, and opens the playground with the demo key', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentgraph-boot-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const dataDir = path.join(dir, 'pglite');

    const cold = Date.now();
    const first = await boot(config({ PGLITE_DATA_DIR: dataDir }), log);
    const coldMs = Date.now() - cold;
    let key: string;
    try {
      expect(first.db.kind).toBe('pglite');
      expect(first.demo?.key).toMatch(/^agk_/);
      key = first.demo!.key;
      const answer = await viewerOf(first.url, key);
      expect(answer.data?.viewer.email).toBe(first.demo!.email);
      expect(answer.data?.graphs.totalCount).toBeGreaterThan(0);
      const page = await (await fetch(`${first.url}/graphiql`)).text();
      expect(page).toContain(key);
      // The key is printed by the boot that created it, and not at all with the playground off.
      expect(first.demo?.createdNow).toBe(true);
      const banner = bootBanner(config({ PGLITE_DATA_DIR: dataDir }), first);
      expect(banner).toContain(`${first.url}/graphiql`);
      expect(banner).toContain(key);
      expect(bootBanner(config({ PGLITE_DATA_DIR: dataDir, PLAYGROUND: '0' }), first)).not.toContain(key);
    } finally {
      await first.shutdown();
    }
    const credentialsFile = `${dataDir}.demo-credentials.json`;
    expect(fs.statSync(credentialsFile).mode & 0o777).toBe(0o600);

    const warm = Date.now();
    const second = await boot(config({ PGLITE_DATA_DIR: dataDir }), log);
    const warmMs = Date.now() - warm;
    try {
      expect(second.demo?.key).toBe(key);
      const users = await second.db.prisma.user.count();
      expect(users).toBe(3);
      // Later boots say where the key is kept, never the key.
      expect(second.demo?.createdNow).toBe(false);
      const banner = bootBanner(config({ PGLITE_DATA_DIR: dataDir }), second);
      expect(banner).toContain(`${second.url}/graphiql`);
      expect(banner).toContain(credentialsFile);
      expect(banner).not.toContain(key);
    } finally {
      await second.shutdown();
    }

    // In production, even with the playground turned on and asked from this machine, the page carries no key.
    const production = await boot(config({ PGLITE_DATA_DIR: dataDir, NODE_ENV: 'production', PLAYGROUND: '1' }), log);
    try {
      const page = await fetch(`${production.url}/graphiql`);
      expect(page.status).toBe(200);
      expect(await page.text()).not.toContain(key);
      expect(bootBanner(config({ PGLITE_DATA_DIR: dataDir, NODE_ENV: 'production', PLAYGROUND: '1' }), production)).not.toContain(key);
    } finally {
      await production.shutdown();
    }
    console.log(`[boot] embedded PGlite: cold ${coldMs} ms (migrations + demo seed), warm ${warmMs} ms`);
  }, 120_000);

  it('refuses a PostgreSQL database behind the migrations, naming the command that fixes it', async () => {
    const database = await createPostgresDatabase('agentgraph_boot');
    cleanups.push(() => database.drop());
    await expect(boot(config({ DATABASE_URL: database.url }), log)).rejects.toThrow(/npm run db:migrate/);

    const migrated = await boot(config({ DATABASE_URL: database.url, MIGRATE_ON_START: '1' }), log);
    try {
      expect(migrated.demo).toBeNull();
      const health = await fetch(`${migrated.url}/health`);
      expect(await health.json()).toMatchObject({ status: 'ok', database: { kind: 'postgres', reachable: true } });
      // PostgreSQL is never seeded by the server.
      expect(await migrated.db.prisma.user.count()).toBe(0);
    } finally {
      await migrated.shutdown();
    }
    // Up to date now: a plain boot (no --migrate) is accepted.
    const plain = await boot(config({ DATABASE_URL: database.url }), log);
    await plain.shutdown();
  });
});
