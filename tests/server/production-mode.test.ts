import http from 'node:http';
import os from 'node:os';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { Database } from '../../src/db/database.js';
import { isLoopbackAddress, isLoopbackHost } from '../../src/http/playground.js';
import { createServer, type AppServer } from '../../src/server/app.js';
import { createTestDatabase } from '../helpers/databases.js';
import { createUser } from '../helpers/factories.js';

/** Production mode is safe by default, and the demo key goes only to a browser on this machine asking for this machine. */
const config = (env: Record<string, string>) => loadConfig(env, ['node', 'main']);

/** A GET over node:http, which (unlike fetch) sends the Host header it is given. */
function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

/** This machine's first address that is not loopback: requests to it come from it, not from 127.0.0.1. */
const outsideAddress = Object.values(os.networkInterfaces())
  .flat()
  .find((address) => address && address.family === 'IPv4' && !address.internal)?.address;

describe('loadConfig: what is open by default', () => {
  it('opens introspection, the playground and demo data only for the embedded demo outside production', () => {
    expect(config({})).toMatchObject({ isProduction: false, introspection: true, playground: true, seedDemoData: true });
    expect(config({ NODE_ENV: 'production' })).toMatchObject({ isProduction: true, introspection: false, playground: false, seedDemoData: false });
    expect(config({ DATABASE_URL: 'postgresql://u@h/db' })).toMatchObject({ isProduction: false, introspection: false, playground: false, seedDemoData: false });
  });

  it('lets INTROSPECTION, PLAYGROUND and SEED_DEMO_DATA say otherwise, and refuses values that are neither on nor off', () => {
    expect(config({ NODE_ENV: 'production', INTROSPECTION: '1', PLAYGROUND: 'true', SEED_DEMO_DATA: 'yes' })).toMatchObject({ introspection: true, playground: true, seedDemoData: true });
    expect(config({ DATABASE_URL: 'postgresql://u@h/db', PLAYGROUND: '1', SEED_DEMO_DATA: '1' })).toMatchObject({ introspection: false, playground: true, seedDemoData: false });
    expect(config({ INTROSPECTION: '0', PLAYGROUND: 'false', SEED_DEMO_DATA: 'no' })).toMatchObject({ introspection: false, playground: false, seedDemoData: false });
    expect(config({ INTROSPECTION: '' })).toMatchObject({ introspection: true });
    expect(() => config({ PLAYGROUND: 'off' })).toThrow(/PLAYGROUND must be 1 or 0/);
  });
});

describe('loopback names and addresses', () => {
  it('knows loopback socket addresses', () => {
    for (const address of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) expect(isLoopbackAddress(address), address).toBe(true);
    for (const address of [undefined, '', '192.0.2.2', '::ffff:192.0.2.2', '10.0.0.1', '127.0.0.256', '::2', '0.0.0.0']) expect(isLoopbackAddress(address), address).toBe(false);
  });

  it('knows loopback Host headers, with or without a port', () => {
    for (const host of ['localhost', 'LOCALHOST:4000', '127.0.0.1', '127.0.0.1:4000', '127.9.9.9:1', '[::1]', '[::1]:4000']) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of [undefined, '', 'evil.example.com', 'localhost.evil.example.com', 'evil.localhost', '127.0.0.1.nip.io', '192.0.2.2:4000', '[::2]:4000', '127.0.0.999', 'localhost:port'])
      expect(isLoopbackHost(host), host).toBe(false);
  });
});

describe('the playground and the API, by configuration', () => {
  let db: Database;
  let apiKey: string;
  const servers: AppServer[] = [];
  const log = pino({ level: 'silent' });
  const start = async (env: Record<string, string>, host = '127.0.0.1') => {
    const { introspection, playground } = config(env);
    const server = await createServer({ db, log, introspection, playground, playgroundHeaders: { Authorization: `Bearer ${apiKey}` } });
    servers.push(server);
    const { url } = await server.listen(0, host);
    return { port: new URL(url).port, url };
  };
  /** Sent both ways the server reads /graphql: POST JSON (the fast path) and GET (Express). */
  const ask = async (url: string, query: string, variables?: Record<string, unknown>) => {
    const headers = { authorization: `Bearer ${apiKey}`, 'apollo-require-preflight': 'true' };
    const posted = await fetch(`${url}/graphql`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
    const search = new URLSearchParams({ query, ...(variables ? { variables: JSON.stringify(variables) } : {}) });
    const got = await fetch(`${url}/graphql?${search}`, { headers });
    return [(await posted.json()) as { errors?: Array<{ message: string; extensions: { code: string } }> }, (await got.json()) as { errors?: Array<{ message: string; extensions: { code: string } }> }];
  };
  const misspelledField = '{ viewer { emial } }';
  const misspelledEnum = ['query($s: [ExecutionStatus!]) { graphExecutions(filter: { statuses: $s }) { totalCount } }', { s: ['FAILD'] }] as const;

  beforeAll(async () => {
    db = await createTestDatabase('pglite');
    apiKey = (await createUser(db)).apiKey;
  });
  afterAll(async () => {
    for (const server of servers) await server.stop();
    await db?.close();
  });

  it('serves the pre-filled key only to a loopback client that names a loopback host', async () => {
    const { port } = await start({}, '0.0.0.0');
    const page = (host: string, extra: Record<string, string> = {}, address = '127.0.0.1') => get(`http://${address}:${port}/graphiql`, { host, ...extra });

    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, 'localhost']) {
      const { status, body } = await page(host);
      expect(status, host).toBe(200);
      expect(body, host).toContain(apiKey);
    }
    // DNS rebinding: a page on evil.example.com whose name now resolves to 127.0.0.1.
    const rebound = await page(`evil.example.com:${port}`);
    expect(rebound.status).toBe(200);
    expect(rebound.body).toContain('playground-config');
    expect(rebound.body).not.toContain(apiKey);
    expect(rebound.body).not.toContain('agk_');
    // A proxy on this machine relays requests from elsewhere.
    expect((await page(`127.0.0.1:${port}`, { 'x-forwarded-for': '203.0.113.9' })).body).not.toContain(apiKey);
    expect((await page(`127.0.0.1:${port}`, { forwarded: 'for=203.0.113.9' })).body).not.toContain(apiKey);
  });

  it.runIf(outsideAddress)('serves no key to a client on the network, whatever Host it sends', async () => {
    const { port } = await start({}, '0.0.0.0');
    const fromNetwork = await get(`http://${outsideAddress}:${port}/graphiql`, { host: `localhost:${port}` });
    expect(fromNetwork.status).toBe(200);
    expect(fromNetwork.body).not.toContain(apiKey);
  });

  it('in production: no playground, no introspection, no "Did you mean" hints', async () => {
    const { url } = await start({ NODE_ENV: 'production' });
    expect((await fetch(`${url}/graphiql`)).status).toBe(404);
    for (const body of await ask(url, '{ __schema { types { name } } }')) {
      expect(body.errors?.[0]?.extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(body.errors?.[0]?.message).toMatch(/introspection is not allowed/);
    }
    for (const body of await ask(url, misspelledField)) {
      expect(body.errors?.[0]?.extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(body.errors?.[0]?.message).toBe('Cannot query field "emial" on type "User".');
    }
    for (const body of await ask(url, ...misspelledEnum)) {
      expect(body.errors?.[0]?.extensions.code).toBe('BAD_USER_INPUT');
      expect(body.errors?.[0]?.message).toMatch(/Value "FAILD" does not exist in "ExecutionStatus" enum\.$/);
    }
    // Turned on by hand, introspection brings its hints back.
    const { url: opened } = await start({ NODE_ENV: 'production', INTROSPECTION: '1' });
    for (const body of await ask(opened, misspelledField)) expect(body.errors?.[0]?.message).toMatch(/Did you mean "email"\?$/);
  });

  it('on the embedded demo: playground, introspection and hints', async () => {
    const { url } = await start({});
    expect((await fetch(`${url}/graphiql`)).status).toBe(200);
    for (const body of await ask(url, '{ __schema { queryType { name } } }')) expect(body.errors).toBeUndefined();
    for (const body of await ask(url, misspelledField)) expect(body.errors?.[0]?.message).toMatch(/Did you mean "email"\?$/);
    for (const body of await ask(url, ...misspelledEnum)) expect(body.errors?.[0]?.message).toMatch(/Did you mean the enum value "FAILED"\?$/);
  });
});
