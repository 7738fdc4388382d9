// The dashboard (/dashboard) in a real Chromium: it loads from this server only, shows the caller's runs and none of
// another user's, shows a status change made through the API within a second, and its range switch shows what
// executionStats answers. Screenshots go to tests/e2e/__artifacts__/ (not tracked).
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPersistedDocuments, DASHBOARD_MANIFEST, loadManifests } from '../../src/server/persisted-documents.js';
import { createGraph, createRuns, createUser } from '../helpers/factories.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const artifacts = path.join(root, 'tests/e2e/__artifacts__');
const DAY = 86_400_000;

const EXECUTE = 'mutation($id: ID!) { executeGraph(graphId: $id) { graphExecution { id } } }';
const MOVE = 'mutation($id: ID!, $s: ExecutionStatus!) { updateGraphExecution(id: $id, status: $s) { graphExecution { id } } }';
const TOTAL = 'query($from: DateTime!, $to: DateTime!) { executionStats(filter: { from: $from, to: $to }) { total } }';

describe('dashboard (/dashboard)', () => {
  let server: TestServer;
  let strict: TestServer;
  let browser: Browser;
  let runId: string;
  let admin: Awaited<ReturnType<typeof createUser>>;
  let other: Awaited<ReturnType<typeof createUser>>;

  /** Opens the page, recording every request and every console problem. */
  async function open(target: TestServer, name: string, check: (page: Page) => Promise<void>, apiKey?: string) {
    const context = await browser.newContext({ viewport: { width: 1300, height: 1000 } });
    // Another key than the demo's: as if typed into the page's key form earlier in this tab.
    if (apiKey) await context.addInitScript((authorization) => (globalThis as unknown as { sessionStorage: { setItem(key: string, value: string): void } }).sessionStorage.setItem('agentgraph:dashboard:authorization', authorization), `Bearer ${apiKey}`);
    const page = await context.newPage();
    const requests: string[] = [];
    const problems: string[] = [];
    context.on('request', (request) => requests.push(request.url()));
    page.on('websocket', (ws) => requests.push(ws.url()));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    try {
      const response = await page.goto(`${target.url}/dashboard`, { waitUntil: 'load' });
      expect(response?.status()).toBe(200);
      await check(page);
      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
      expect(problems).toEqual([]);
      expect(requests.filter((url) => !url.startsWith('data:') && !url.startsWith('blob:') && new URL(url).host !== new URL(target.url).host)).toEqual([]);
    } catch (error) {
      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: path.join(artifacts, `${name}-failed.png`), fullPage: true }).catch(() => {});
      throw error;
    } finally {
      await context.close();
    }
  }

  beforeAll(async () => {
    execFileSync(process.execPath, [path.join(root, 'scripts/build-dashboard.mjs')], { cwd: root, stdio: 'inherit' });
    server = await startTestServer();
    strict = await startTestServer({ persistedDocuments: createPersistedDocuments('only', loadManifests([DASHBOARD_MANIFEST])) });
    const mine = (await createGraph(server.db, server.userId, { name: 'Mine' })).graph;
    other = await createUser(server.db, { email: 'theirs@picker.test', name: 'Their Name' });
    admin = await createUser(server.db, { admin: true });
    const theirs = (await createGraph(server.db, other.user.id, { name: 'Theirs' })).graph;
    // Runs 10 days ago count in the 30-day range, not in the 7-day one.
    await createRuns(server.db, Array.from({ length: 6 }, (_, i) => ({ graphId: mine.id, version: 1, userId: server.userId, status: i % 2 ? 'COMPLETED' : 'FAILED', createdAt: new Date(Date.now() - 10 * DAY) })));
    const created = await server.graphql<{ executeGraph: { graphExecution: { id: string } } }>(EXECUTE, { id: mine.id });
    runId = created.data!.executeGraph.graphExecution.id;
    await server.graphql(EXECUTE, { id: theirs.id }, other.apiKey);
    // That server runs only the dashboard's documents: its fixture is written directly.
    const strictGraph = (await createGraph(strict.db, strict.userId, { name: 'Strict' })).graph;
    await createRuns(strict.db, [{ graphId: strictGraph.id, version: 1, userId: strict.userId, status: 'RUNNING' }]);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update'] });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await strict?.close();
  });

  it('shows the caller’s runs live (a status change within a second) and none of another user’s', async () => {
    await open(server, 'dashboard', async (page) => {
      const row = page.locator(`tr[data-run="${runId}"]`);
      await row.waitFor({ state: 'visible', timeout: 30_000 });
      await expect.poll(() => page.locator('.badge').first().innerText(), { timeout: 10_000 }).toBe('live');
      const runs = await page.locator('section[aria-labelledby="runs"]').innerText();
      expect(runs).toContain('Mine');
      expect(runs).not.toContain('Theirs');
      await expect.poll(() => server.liveStats().subscriptions, { timeout: 10_000 }).toBeGreaterThan(0);
      await server.graphql(MOVE, { id: runId, s: 'RUNNING' });
      const moved = Date.now();
      await expect.poll(() => row.locator('[data-status]').getAttribute('data-status'), { timeout: 1_000, interval: 50 }).toBe('RUNNING');
      expect(Date.now() - moved).toBeLessThan(1_000);
    });
  }, 120_000);

  it('opens a run: its node executions as duration bars, moving as they progress', async () => {
    const nodes = await server.graphql<{ graphExecution: { nodeExecutions: { nodes: Array<{ id: string }> } } }>(
      'query($id: ID!) { graphExecution(id: $id) { nodeExecutions(first: 10) { nodes { id } } } }',
      { id: runId },
    );
    const [first] = nodes.data!.graphExecution.nodeExecutions.nodes;
    await open(server, 'dashboard-run', async (page) => {
      await page.locator(`tr[data-run="${runId}"] button`).click();
      const detail = page.locator('section.run');
      await detail.locator('ol.nodes li').first().waitFor({ state: 'visible', timeout: 30_000 });
      expect(await detail.locator('ol.nodes li').count()).toBe(nodes.data!.graphExecution.nodeExecutions.nodes.length);
      await expect.poll(() => server.liveStats().subscriptions, { timeout: 10_000 }).toBeGreaterThan(1);
      await server.graphql('mutation($id: ID!) { updateNodeExecution(id: $id, status: RUNNING) { nodeExecution { id } } }', { id: first!.id });
      await expect.poll(() => detail.locator(`li[data-node="${first!.id}"] .status`).innerText(), { timeout: 2_000 }).toBe('RUNNING');
    });
  }, 120_000);

  it('switching the range shows what executionStats answers for it', async () => {
    const total = async (days: number) => {
      const to = new Date(Math.ceil(Date.now() / 900_000) * 900_000);
      const res = await server.graphql<{ executionStats: { total: number } }>(TOTAL, { from: new Date(to.getTime() - days * DAY).toISOString(), to: to.toISOString() });
      return res.data!.executionStats.total;
    };
    await open(server, 'dashboard-30-days', async (page) => {
      const figure = page.locator('[data-figure="runs"]').first();
      await figure.waitFor({ state: 'visible', timeout: 30_000 });
      expect(Number((await figure.innerText()).replace(/,/g, ''))).toBe(await total(7));
      await page.getByLabel('30 days').check();
      const thirty = await total(30);
      expect(thirty).toBeGreaterThan(await total(7));
      await expect.poll(async () => Number((await figure.innerText()).replace(/,/g, '')), { timeout: 10_000 }).toBe(thirty);
      await page.locator('figure.chart canvas').first().waitFor({ state: 'visible' });
    });
  }, 120_000);

  it('an admin sees every user’s runs, then picks one user by searching their name', async () => {
    await open(
      server,
      'dashboard-admin-picker',
      async (page) => {
        const runs = page.locator('section[aria-labelledby="runs"]');
        await runs.locator('tr[data-run]').first().waitFor({ state: 'visible', timeout: 30_000 });
        await expect.poll(() => runs.innerText(), { timeout: 10_000 }).toContain('Theirs');
        expect(await runs.innerText()).toContain('Mine');
        await page.getByLabel('Find a user by email or name').fill('their name');
        const picker = page.getByLabel('Show the data of');
        await expect.poll(() => picker.locator('option').allInnerTexts(), { timeout: 10_000 }).toEqual(['every user', 'theirs@picker.test (Their Name)']);
        await picker.selectOption({ label: 'theirs@picker.test (Their Name)' });
        await expect.poll(() => runs.innerText(), { timeout: 10_000 }).not.toContain('Mine');
        expect(await runs.innerText()).toContain('Theirs');
      },
      admin.apiKey,
    );
  }, 120_000);

  it('works where the server runs only its persisted documents', async () => {
    await open(strict, 'dashboard-persisted-only', async (page) => {
      await page.locator('tr[data-run]').first().waitFor({ state: 'visible', timeout: 30_000 });
      expect(await page.locator('section[aria-labelledby="runs"]').innerText()).toContain('Strict');
      await expect.poll(() => page.locator('.badge').first().innerText(), { timeout: 10_000 }).toBe('live');
    });
  }, 120_000);
});
