import type { RequestHandler } from 'express';
import type { ServerResponse } from 'node:http';

/** The playground's policy: everything from this origin; Monaco needs inline styles and GraphiQL's data: fonts. */
const PLAYGROUND_CSP =
  "default-src 'self'; script-src 'self'; worker-src 'self'; style-src 'self' 'unsafe-inline'; font-src 'self' data:; " +
  "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
/** The dashboard's policy: its script, styles (uPlot sizes its canvas with inline styles) and this origin's API. */
const DASHBOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
/** The API answers JSON only: nothing in it may load or run anything. */
const API_CSP = "default-src 'none'; frame-ancestors 'none'";

const COMMON_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['X-Content-Type-Options', 'nosniff'],
  ['Referrer-Policy', 'no-referrer'],
  ['X-Frame-Options', 'DENY'],
  ['Cross-Origin-Opener-Policy', 'same-origin'],
  ['Cross-Origin-Resource-Policy', 'same-origin'],
];
/** The security headers of every API answer (the GraphQL endpoint's fast path writes them in one go). */
export const API_SECURITY_HEADERS: ReadonlyArray<readonly [string, string]> = [...COMMON_HEADERS, ['Content-Security-Policy', API_CSP]];

/** Security headers on every response; the page and the API get their own Content-Security-Policy. */
export const securityHeaders: RequestHandler = (req, res, next) => {
  for (const [name, value] of COMMON_HEADERS) res.setHeader(name, value);
  res.setHeader('Content-Security-Policy', req.path.startsWith('/graphiql') ? PLAYGROUND_CSP : req.path.startsWith('/dashboard') ? DASHBOARD_CSP : API_CSP);
  next();
};

const ALLOWED_HEADERS = 'authorization, content-type, apollo-require-preflight, x-apollo-operation-name';

/**
 * CORS for browser dashboards on other origins: only the origins listed in CORS_ORIGINS (comma-separated, or
 * `*`) get the headers. Credentials are never allowed: the API authenticates with bearer keys, not cookies.
 * Returns the value of Access-Control-Allow-Origin for a request's Origin header, or null for none.
 */
export function corsAllowedOrigin(allowedOrigins: readonly string[], origin: string | undefined): string | null {
  if (!origin) return null;
  if (allowedOrigins.includes('*')) return '*';
  return allowedOrigins.includes(origin) ? origin : null;
}

/** Sets the CORS headers of an answer to an allowed origin (not a preflight). */
export function setCorsHeaders(res: ServerResponse, allowOrigin: string): void {
  res.setHeader('Access-Control-Allow-Origin', allowOrigin);
  res.setHeader('Vary', 'Origin');
}

export function cors(allowedOrigins: readonly string[]): RequestHandler {
  return (req, res, next) => {
    const allowOrigin = corsAllowedOrigin(allowedOrigins, req.headers.origin);
    if (allowOrigin) {
      setCorsHeaders(res, allowOrigin);
      if (req.method === 'OPTIONS') {
        res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
        res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
        res.setHeader('Access-Control-Max-Age', '600');
        res.status(204).end();
        return;
      }
    }
    next();
  };
}
