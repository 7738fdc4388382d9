import type { RequestHandler } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pino, type Logger } from 'pino';

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'agentgraph' },
    // API keys must never reach the logs, whichever object carries them.
    redact: { paths: ['req.headers.authorization', 'headers.authorization', 'authorization', 'apiKey', 'key'], censor: '[redacted]' },
  });
}

/**
 * One line per request once it is answered (no headers, no query string: neither may carry secrets into the
 * logs): a warning for a server error, else at debug level. The line is only put together when it is written.
 */
export function logRequestWhenFinished(log: Logger, req: IncomingMessage, res: ServerResponse): void {
  const started = performance.now();
  // Taken now: Express rewrites req.url while a mounted router handles the request.
  const url = req.url ?? '';
  res.once('finish', () => {
    const failed = res.statusCode >= 500;
    if (!failed && !log.isLevelEnabled('debug')) return;
    const entry = { method: req.method, path: url.split('?')[0], status: res.statusCode, ms: performance.now() - started };
    if (failed) log.warn(entry, 'request failed');
    else log.debug(entry, 'request');
  });
}

export function requestLogger(log: Logger): RequestHandler {
  return (req, res, next) => {
    logRequestWhenFinished(log, req, res);
    next();
  };
}
