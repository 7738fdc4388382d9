// Self-hosted GraphiQL 5 playground, and the dashboard page.
//
// Each serves its page at `/` and its bundle under `/assets/...`: the playground's is committed
// (src/http/playground/bundle/, built by `npm run playground:build`), the dashboard's generated
// (src/generated/dashboard-bundle/, by `npm run generate`). Nothing is loaded from another host:
// React, GraphiQL, Monaco and Monaco's web workers all come from these routers.
//
// Usage: app.use('/graphiql', createPlaygroundRouter({ graphqlPath: '/graphql' }))
//
// CSP-friendly: the page has no inline script code. Its configuration is a
// `<script type="application/json">` data block (not executed), read by the bundle.
// A policy that works: default-src 'self'; script-src 'self'; worker-src 'self';
// style-src 'self' 'unsafe-inline' (Monaco sets inline styles); font-src 'self' data:;
// img-src 'self' data:; connect-src 'self'.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import express from 'express';
import type { Request, Response } from 'express';
import { runtimeAsset } from '../config.js';

export interface PlaygroundOptions {
  /** URL path of the GraphQL endpoint, e.g. `/graphql`. */
  graphqlPath: string;
  /**
   * Headers pre-filled in GraphiQL's headers editor, e.g. `{ Authorization: 'Bearer …' }`. Served only to a request
   * from this machine that names this machine (`isLocalRequest`); everyone else gets the page without them.
   */
  defaultHeaders?: Record<string, string>;
  /** Operation shown in the editor on first visit. */
  defaultQuery?: string;
  /** Page title. */
  title?: string;
}

/** A bundle's manifest.json: the page's entry (script and style), paths relative to the bundle's directory. */
interface PageManifest {
  script: string;
  style: string;
}

interface PlaygroundManifest extends PageManifest {
  workers: { editor: string; json: string; graphql: string };
}

/** One page and its bundle: where the bundle is, the config its script reads, the element it renders into. */
type BundlePage<Manifest extends PageManifest> = {
  title: string;
  /** The bundle's directory, by its place in the repository (`runtimeAsset`), and the command that builds it. */
  bundle: { path: string; buildCommand: string };
  config(req: Request, assets: string, manifest: Manifest): Record<string, unknown>;
  /** The id of the config's data block and of the root element: `<name>-config`, `<name>`. */
  name: string;
  noscript: string;
};

/** Hashed file names (`name-ABCDEFGH.ext`, written by esbuild) never change content. */
const HASHED_FILE = /-[A-Z0-9]{8}\.[a-z0-9]+$/;

const DEFAULT_QUERY = `# agentgraph GraphQL playground
# Ctrl+Enter (Cmd+Enter) runs the query.
{
  viewer {
    id
    email
  }
}
`;

/** Small same-origin icon, so the browser does not ask for /favicon.ico (404) on every visit. */
const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#d60590"/>' +
  '<path d="M16 5l9.5 5.5v11L16 27l-9.5-5.5v-11z" fill="none" stroke="#fff" stroke-width="2.2"/></svg>';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON that is safe inside a <script> data block: no `</script>`, `<!--`, or U+2028/2029 surprises. */
function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

const isLoopbackIPv4 = (address: string) => {
  const octets = address.split('.');
  return octets.length === 4 && octets[0] === '127' && octets.every((octet) => /^\d{1,3}$/.test(octet) && Number(octet) <= 255);
};

/** A loopback socket address: 127.0.0.0/8, ::1, or 127.x as an IPv4-mapped IPv6 address. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  if (address === '::1') return true;
  return isLoopbackIPv4(address.toLowerCase().startsWith('::ffff:') ? address.slice('::ffff:'.length) : address);
}

/** A Host header naming this machine by a loopback name: localhost, 127.x.x.x or [::1], with any port. */
export function isLoopbackHost(host: string | undefined): boolean {
  const match = /^(localhost|\[::1\]|[\d.]+)(?::\d{1,5})?$/i.exec(host?.trim() ?? '');
  if (!match) return false;
  const name = match[1]!.toLowerCase();
  return name === 'localhost' || name === '[::1]' || isLoopbackIPv4(name);
}

/**
 * Whether the page may carry the default headers (a demo key): the connection comes from this machine AND the
 * browser asked for this machine by name. The Host check stops DNS rebinding (a web page whose own name resolves to
 * 127.0.0.1 reads the answer as same-origin); a request relayed by a proxy on this machine is not local.
 */
export function isLocalRequest(req: Pick<Request, 'socket' | 'headers'>): boolean {
  const relayed = req.headers['x-forwarded-for'] !== undefined || req.headers.forwarded !== undefined || req.headers['x-real-ip'] !== undefined;
  return !relayed && isLoopbackAddress(req.socket.remoteAddress) && isLoopbackHost(req.headers.host);
}

export function createPlaygroundRouter(options: PlaygroundOptions): express.Router {
  const defaultHeaders = headersText(options.defaultHeaders);
  return createBundleRouter<PlaygroundManifest>({
    title: options.title ?? 'agentgraph · GraphiQL',
    name: 'playground',
    noscript: 'The GraphiQL playground needs JavaScript.',
    bundle: { path: 'src/http/playground/bundle', buildCommand: 'npm run playground:build' },
    config: (req, assets, manifest) => ({
      graphqlPath: options.graphqlPath,
      defaultHeaders: isLocalRequest(req) ? defaultHeaders : undefined,
      defaultQuery: options.defaultQuery ?? DEFAULT_QUERY,
      workers: {
        editor: `${assets}/${manifest.workers.editor}`,
        json: `${assets}/${manifest.workers.json}`,
        graphql: `${assets}/${manifest.workers.graphql}`,
      },
    }),
  });
}

/**
 * The dashboard (src/http/dashboard): live runs and execution statistics. Like the playground it
 * opens with the default headers (the demo key) only for a browser on this machine; anyone else enters a key.
 */
export function createDashboardRouter(options: Pick<PlaygroundOptions, 'graphqlPath' | 'defaultHeaders' | 'title'>): express.Router {
  const defaultHeaders = headersText(options.defaultHeaders);
  return createBundleRouter<PageManifest>({
    title: options.title ?? 'agentgraph · dashboard',
    name: 'dashboard',
    noscript: 'The dashboard needs JavaScript.',
    bundle: { path: 'src/generated/dashboard-bundle', buildCommand: 'npm run generate' },
    config: (req) => ({ graphqlPath: options.graphqlPath, defaultHeaders: isLocalRequest(req) ? defaultHeaders : undefined }),
  });
}

const headersText = (headers: Record<string, string> | undefined) => (headers && Object.keys(headers).length > 0 ? JSON.stringify(headers, null, 2) : undefined);

function createBundleRouter<Manifest extends PageManifest>(page: BundlePage<Manifest>): express.Router {
  // Copied into dist/ by the build (scripts/build.mjs).
  const bundleDir = runtimeAsset(page.bundle.path);
  const manifestPath = path.join(bundleDir, 'manifest.json');
  const title = page.title;

  // The manifest is re-read when the bundle is rebuilt while the server runs (new hashes).
  let cached: { mtimeMs: number; manifest: Manifest } | undefined;
  function loadManifest(): Manifest | undefined {
    let mtimeMs: number;
    try {
      mtimeMs = statSync(manifestPath).mtimeMs;
    } catch {
      cached = undefined;
      return undefined;
    }
    if (cached?.mtimeMs !== mtimeMs) {
      try {
        cached = { mtimeMs, manifest: JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest };
      } catch {
        return undefined; // being rewritten
      }
    }
    return cached.manifest;
  }

  function bundleMissing(res: Response): void {
    res
      .status(503)
      .type('text/plain')
      .set('Cache-Control', 'no-store')
      .send(`The page bundle has not been built (${page.bundle.path}/ is missing).\nRun \`${page.bundle.buildCommand}\` and reload.\n`);
  }

  const router = express.Router();

  router.get('/', (req: Request, res: Response) => {
    const manifest = loadManifest();
    if (!manifest) {
      bundleMissing(res);
      return;
    }
    const assets = `${req.baseUrl}/assets`;
    const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<link rel="icon" type="image/svg+xml" href="${escapeHtml(`${req.baseUrl}/favicon.svg`)}">
<link rel="stylesheet" href="${escapeHtml(`${assets}/${manifest.style}`)}">
<link rel="modulepreload" href="${escapeHtml(`${assets}/${manifest.script}`)}">
<script type="application/json" id="${page.name}-config">${jsonForScript(page.config(req, assets, manifest))}</script>
<script type="module" src="${escapeHtml(`${assets}/${manifest.script}`)}"></script>
</head>
<body>
<div id="${page.name === 'playground' ? 'graphiql' : page.name}"></div>
<noscript>${escapeHtml(page.noscript)}</noscript>
</body>
</html>
`;
    res
      .status(200)
      .type('html')
      // The page may embed default headers (e.g. a demo API key), depending on who asks: no shared caches.
      .set('Cache-Control', 'private, no-cache')
      .set('X-Content-Type-Options', 'nosniff')
      .send(html);
  });

  router.get('/favicon.svg', (_req: Request, res: Response) => {
    res.type('image/svg+xml').set('Cache-Control', 'public, max-age=86400').send(FAVICON_SVG);
  });

  const serveAssets = express.static(bundleDir, {
    index: false,
    redirect: false,
    dotfiles: 'ignore',
    fallthrough: true,
    setHeaders(res) {
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
    },
  });
  router.use('/assets', (req, res, next) => {
    if (!loadManifest()) {
      bundleMissing(res);
      return;
    }
    // Only the bundle's hashed files (whose content never changes): not its manifest, nor a README beside them.
    if (HASHED_FILE.test(req.path)) serveAssets(req, res, next);
    else next();
  });
  router.use('/assets', (_req: Request, res: Response) => {
    res.status(404).type('text/plain').set('Cache-Control', 'no-store').send('Not found\n');
  });

  return router;
}
