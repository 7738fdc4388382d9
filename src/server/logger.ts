import type { RequestHandler } from 'express';
import { pino, type Logger } from 'pino';

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'agentgraph' },
    // API keys must never reach the logs, whichever object carries them.
    redact: { paths: ['req.headers.authorization', 'headers.authorization', 'authorization', 'apiKey', 'key'], censor: '[redacted]' },
  });
}

/** One line per request (no headers, no query string: neither may carry secrets into the logs). */
export function requestLogger(log: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const entry = { method: req.method, path: req.originalUrl.split('?')[0], status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 };
      if (res.statusCode >= 500) log.warn(entry, 'request failed');
      else log.debug(entry, 'request');
    });
    next();
  };
}
