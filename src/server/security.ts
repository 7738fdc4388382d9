import type { RequestHandler } from 'express';

/** The playground's policy: everything from this origin; Monaco needs inline styles and GraphiQL's data: fonts. */
const PLAYGROUND_CSP =
  "default-src 'self'; script-src 'self'; worker-src 'self'; style-src 'self' 'unsafe-inline'; font-src 'self' data:; " +
  "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
/** The API answers JSON only: nothing in it may load or run anything. */
const API_CSP = "default-src 'none'; frame-ancestors 'none'";

/** Security headers on every response; the page and the API get their own Content-Security-Policy. */
export const securityHeaders: RequestHandler = (req, res, next) => {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('Content-Security-Policy', req.path.startsWith('/graphiql') ? PLAYGROUND_CSP : API_CSP);
  next();
};

const ALLOWED_HEADERS = 'authorization, content-type, apollo-require-preflight, x-apollo-operation-name';

/**
 * CORS for browser dashboards on other origins: only the origins listed in CORS_ORIGINS (comma-separated, or
 * `*`) get the headers. Credentials are never allowed: the API authenticates with bearer keys, not cookies.
 */
export function cors(allowedOrigins: readonly string[]): RequestHandler {
  const any = allowedOrigins.includes('*');
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin && (any || allowedOrigins.includes(origin))) {
      res.setHeader('Access-Control-Allow-Origin', any ? '*' : origin);
      res.setHeader('Vary', 'Origin');
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
