// Self-hosted GraphiQL 5 playground.
//
// Serves the page at `/` and the bundle built by `scripts/build-playground.mjs`
// (src/generated/playground/) under `/assets/...`. Nothing is loaded from another host:
// React, GraphiQL, Monaco and Monaco's web workers all come from this router.
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
import { fileURLToPath } from 'node:url';
import express from 'express';
import type { Request, Response } from 'express';

export interface PlaygroundOptions {
  /** URL path of the GraphQL endpoint, e.g. `/graphql`. */
  graphqlPath: string;
  /** Headers pre-filled in GraphiQL's headers editor, e.g. `{ Authorization: 'Bearer …' }`. */
  defaultHeaders?: Record<string, string>;
  /** Operation shown in the editor on first visit. */
  defaultQuery?: string;
  /** Page title. */
  title?: string;
}

interface PlaygroundManifest {
  script: string;
  style: string;
  workers: { editor: string; json: string; graphql: string };
}

/** src/generated/playground, located from this module (works from src/ with tsx and from dist/). */
function findBundleDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [
    path.resolve(here, '../generated/playground'), // src/http -> src/generated/playground
    path.resolve(here, '../../../src/generated/playground'), // dist/src/http -> src/generated/playground
    path.resolve(here, '../../src/generated/playground'), // dist/http -> src/generated/playground
  ];
  for (const dir of candidates) {
    try {
      statSync(path.join(dir, 'manifest.json'));
      return dir;
    } catch {
      // try the next one
    }
  }
  return candidates[0] as string;
}

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

export function createPlaygroundRouter(options: PlaygroundOptions): express.Router {
  const bundleDir = findBundleDir();
  const manifestPath = path.join(bundleDir, 'manifest.json');
  const title = options.title ?? 'agentgraph · GraphiQL';
  const defaultHeaders =
    options.defaultHeaders && Object.keys(options.defaultHeaders).length > 0
      ? JSON.stringify(options.defaultHeaders, null, 2)
      : undefined;

  // The manifest is re-read when the bundle is rebuilt while the server runs (new hashes).
  let cached: { mtimeMs: number; manifest: PlaygroundManifest } | undefined;
  function loadManifest(): PlaygroundManifest | undefined {
    let mtimeMs: number;
    try {
      mtimeMs = statSync(manifestPath).mtimeMs;
    } catch {
      cached = undefined;
      return undefined;
    }
    if (cached?.mtimeMs !== mtimeMs) {
      try {
        cached = { mtimeMs, manifest: JSON.parse(readFileSync(manifestPath, 'utf8')) as PlaygroundManifest };
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
      .send(
        'The GraphiQL playground bundle has not been built (src/generated/playground/ is missing).\n' +
          'Run `npm run generate` (or `node scripts/build-playground.mjs`) and reload.\n',
      );
  }

  const router = express.Router();

  router.get('/', (req: Request, res: Response) => {
    const manifest = loadManifest();
    if (!manifest) {
      bundleMissing(res);
      return;
    }
    const assets = `${req.baseUrl}/assets`;
    const config = {
      graphqlPath: options.graphqlPath,
      defaultHeaders,
      defaultQuery: options.defaultQuery ?? DEFAULT_QUERY,
      workers: {
        editor: `${assets}/${manifest.workers.editor}`,
        json: `${assets}/${manifest.workers.json}`,
        graphql: `${assets}/${manifest.workers.graphql}`,
      },
    };
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
<script type="application/json" id="playground-config">${jsonForScript(config)}</script>
<script type="module" src="${escapeHtml(`${assets}/${manifest.script}`)}"></script>
</head>
<body>
<div id="graphiql"></div>
<noscript>The GraphiQL playground needs JavaScript.</noscript>
</body>
</html>
`;
    res
      .status(200)
      .type('html')
      // The page embeds default headers (e.g. a demo API key): keep it out of shared caches.
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
    setHeaders(res, filePath) {
      res.setHeader('X-Content-Type-Options', 'nosniff');
      if (HASHED_FILE.test(filePath)) res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
      else res.setHeader('Cache-Control', 'no-cache');
    },
  });
  router.use('/assets', (req, res, next) => {
    if (!loadManifest()) {
      bundleMissing(res);
      return;
    }
    if (req.path === '/manifest.json') {
      res.status(404).type('text/plain').send('Not found\n');
      return;
    }
    serveAssets(req, res, next);
  });
  router.use('/assets', (_req: Request, res: Response) => {
    res.status(404).type('text/plain').set('Cache-Control', 'no-store').send('Not found\n');
  });

  return router;
}
