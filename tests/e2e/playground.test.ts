// End-to-end test of the self-hosted GraphiQL playground (/graphiql) in a real Chromium.
//
// Proves that the page loads, Monaco's web workers start from the same origin, a query runs
// with the server-provided default headers (the demo API key), and that the page makes zero
// requests to any host other than the server's own.
//
// Needs /usr/bin/chromium (Debian's `chromium` package). The bundle is committed (src/http/playground/bundle/, rebuilt
// by `npm run playground:build`); tests/server/committed-code.test.ts checks it was built from the current sources.
// Screenshots go to tests/e2e/__artifacts__/ (not tracked): `npm test` leaves the tree as it found it.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, ConsoleMessage } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGraph } from '../helpers/factories.js';
import { startTestServer } from '../helpers/server.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const screenshotPath = path.join(root, 'tests/e2e/__artifacts__/playground.png');

// Not skipped when the browser is missing: `npm test` installs it (scripts/ensure-chromium.sh) and CI must run this.
describe('GraphiQL playground (/graphiql)', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let browser: Browser;

  beforeAll(async () => {
    server = await startTestServer();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('runs { viewer { id email } } with the default headers, loading nothing from other hosts', async () => {
    const serverHost = new URL(server.url).host;
    const context = await browser.newContext({ viewport: { width: 1400, height: 860 } });
    const page = await context.newPage();

    // Every request of the page and its workers (context-level also sees worker requests).
    const requests: string[] = [];
    context.on('request', (request) => requests.push(request.url()));
    page.on('websocket', (ws) => requests.push(ws.url()));
    const consoleProblems: string[] = [];
    page.on('console', (message: ConsoleMessage) => {
      if (message.type() === 'error' || message.type() === 'warning') consoleProblems.push(`${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => consoleProblems.push(`pageerror: ${error.message}`));

    // Text of every Monaco model GraphiQL created (@graphiql/react exposes monaco as globalThis.__MONACO).
    const modelValues = () =>
      page.evaluate(() => {
        type Monaco = { editor: { getModels(): Array<{ getValue(): string }> } };
        const monaco = (globalThis as { __MONACO?: Monaco }).__MONACO;
        return monaco ? monaco.editor.getModels().map((model) => model.getValue()) : [];
      });

    try {
      const response = await page.goto(`${server.url}/graphiql`, { waitUntil: 'load' });
      expect(response?.status()).toBe(200);
      expect(await page.title()).not.toBe('');

      // The operation editor (Monaco) is ready once it has rendered its lines.
      const queryEditor = page.locator('.graphiql-query-editor .monaco-editor').first();
      await queryEditor.waitFor({ state: 'visible', timeout: 30_000 });
      await page.locator('.graphiql-query-editor .view-lines').first().waitFor({ state: 'visible' });

      // The headers editor is pre-filled with the server-provided Authorization header.
      await expect
        .poll(() => modelValues().then((values) => values.find((v) => v.includes('Authorization')) ?? ''), { timeout: 15_000 })
        .toContain(`Bearer ${server.apiKey}`);

      // Replace the query: select all, then insert the text (no per-key auto-closing of braces).
      await queryEditor.click();
      await page.keyboard.press('ControlOrMeta+A');
      await page.keyboard.press('Delete');
      await page.keyboard.insertText('{ viewer { id email } }');
      // The server's default document mentions `viewer` too: look for a model holding exactly the new query.
      await expect.poll(() => modelValues()).toContain('{ viewer { id email } }');

      // GraphiQL parses the edited document after a debounce; a click before that would run the server's
      // multi-operation default document (which opens the operation menu instead). Retry until it ran.
      const responsePane = page.locator('.graphiql-response');
      await expect
        .poll(
          async () => {
            await page.keyboard.press('Escape');
            await page.locator('button.graphiql-execute-button').click();
            await page.waitForTimeout(1_000);
            return responsePane.innerText();
          },
          { timeout: 45_000, interval: 500 },
        )
        .toContain(server.userEmail);

      // The GraphQL language worker (validation, completion) and the editor worker started from
      // our origin: the requests were made and no "could not create web worker" fallback happened.
      await expect.poll(() => requests.some((url) => url.includes('/graphiql/assets/workers/graphql.worker-'))).toBe(true);
      expect(requests.some((url) => url.includes('/graphiql/assets/workers/editor.worker-'))).toBe(true);
      expect(consoleProblems.filter((line) => /worker/i.test(line))).toEqual([]);
      // No failed loads (404s, blocked requests) and no uncaught exceptions.
      expect(consoleProblems.filter((line) => line.startsWith('error') || line.startsWith('pageerror'))).toEqual([]);

      mkdirSync(path.dirname(screenshotPath), { recursive: true });
      await page.screenshot({ path: screenshotPath });

      // Zero requests to any host other than the server's (data:/blob: URLs are not network requests).
      const network = requests.filter((url) => !url.startsWith('data:') && !url.startsWith('blob:'));
      expect(network.length).toBeGreaterThan(0);
      const foreign = network.filter((url) => new URL(url).host !== serverHost);
      expect(foreign).toEqual([]);
    } catch (error) {
      mkdirSync(path.dirname(screenshotPath), { recursive: true });
      await page.screenshot({ path: screenshotPath.replace(/\.png$/, '-failed.png') }).catch(() => {});
      throw error;
    } finally {
      await context.close();
    }
  }, 120_000);

  it('runs a subscription over a WebSocket to the same origin, showing a run created while it listens', async () => {
    const { graph } = await createGraph(server.db, server.userId, { name: 'Watched' });
    const context = await browser.newContext({ viewport: { width: 1400, height: 860 } });
    const page = await context.newPage();
    const sockets: string[] = [];
    page.on('websocket', (ws) => sockets.push(ws.url()));
    try {
      await page.goto(`${server.url}/graphiql`, { waitUntil: 'load' });
      const queryEditor = page.locator('.graphiql-query-editor .monaco-editor').first();
      await queryEditor.waitFor({ state: 'visible', timeout: 30_000 });
      await queryEditor.click();
      await page.keyboard.press('ControlOrMeta+A');
      await page.keyboard.press('Delete');
      const subscription = 'subscription { graphExecutionUpdated { kind status graphExecution { id graph { name } } } }';
      await page.keyboard.insertText(subscription);
      const responsePane = page.locator('.graphiql-response');
      // Started once the WebSocket is open (GraphiQL parses the edited document after a debounce: retry the click).
      await expect
        .poll(
          async () => {
            if (sockets.length === 0) {
              await page.keyboard.press('Escape');
              await page.locator('button.graphiql-execute-button').click();
              await page.waitForTimeout(1_000);
            }
            return server.liveStats().subscriptions;
          },
          { timeout: 45_000, interval: 500 },
        )
        .toBe(1);
      const run = await server.graphql<{ executeGraph: { graphExecution: { id: string } } }>('mutation($id: ID!) { executeGraph(graphId: $id) { graphExecution { id } } }', { id: graph.id });
      const runId = run.data!.executeGraph.graphExecution.id;
      await expect.poll(() => responsePane.innerText(), { timeout: 15_000 }).toContain(runId);
      const shown = await responsePane.innerText();
      expect(shown).toContain('CREATED');
      expect(shown).toContain('Watched');
      expect(sockets.map((url) => new URL(url).host)).toEqual([new URL(server.url).host]);
    } catch (error) {
      mkdirSync(path.dirname(screenshotPath), { recursive: true });
      await page.screenshot({ path: screenshotPath.replace(/\.png$/, '-live-failed.png') }).catch(() => {});
      throw error;
    } finally {
      await context.close();
    }
  }, 120_000);

  it('the documentation explorer shows the block catalogue: Block with its input and output ports, and what a port is', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 860 } });
    const page = await context.newPage();
    try {
      await page.goto(`${server.url}/graphiql`, { waitUntil: 'load' });
      await page.locator('.graphiql-sidebar button[aria-label="Show Documentation Explorer"]').click();
      const docs = page.locator('.graphiql-doc-explorer');
      await docs.waitFor({ state: 'visible', timeout: 30_000 });
      // Searches the schema by name and opens the type found.
      const open = async (name: string) => {
        const search = docs.locator('.graphiql-doc-explorer-search input');
        await search.click();
        await search.fill(name);
        await docs.locator('.graphiql-doc-explorer-search [role="option"]').filter({ hasText: new RegExp(`^${name}$`) }).first().click();
        await expect.poll(() => docs.locator('.graphiql-doc-explorer-title').innerText(), { timeout: 15_000 }).toBe(name);
      };
      await open('Block');
      await expect.poll(() => docs.innerText()).toContain('inputPorts');
      const block = await docs.innerText();
      expect(block).toContain('outputPorts');
      expect(block).toContain('BlockPort');
      await open('BlockPort');
      const port = await docs.innerText();
      for (const field of ['types', 'required', 'isStatic', 'schema']) expect(port).toContain(field);
      expect(port).toContain('An input a run needs');
    } catch (error) {
      mkdirSync(path.dirname(screenshotPath), { recursive: true });
      await page.screenshot({ path: screenshotPath.replace(/\.png$/, '-docs-failed.png') }).catch(() => {});
      throw error;
    } finally {
      await context.close();
    }
  }, 120_000);

  it('serves hashed assets with long cache headers and the page with an escaped JSON config', async () => {
    const page = await fetch(`${server.url}/graphiql`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    const config = /<script type="application\/json" id="playground-config">([^<]*)<\/script>/.exec(html);
    expect(config).not.toBeNull();
    expect(JSON.parse(config?.[1] ?? '{}')).toMatchObject({ graphqlPath: '/graphql' });
    // No inline executable scripts (CSP-friendly): every other <script> has a src.
    const scripts = html.match(/<script\b[^>]*>/g) ?? [];
    expect(scripts.every((tag) => tag.includes('type="application/json"') || /\ssrc="/.test(tag))).toBe(true);

    const script = /<script type="module" src="([^"]+)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(new URL(script ?? '', server.url));
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    await asset.arrayBuffer();

    const missing = await fetch(`${server.url}/graphiql/assets/nope-ABCDEFGH.js`);
    expect(missing.status).toBe(404);
    await missing.arrayBuffer();
  });
});
