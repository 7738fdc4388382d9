import type { IncomingMessage, ServerResponse } from 'node:http';
import { GraphQLError, subscribe, type ExecutionResult } from 'graphql';
import type { LiveHub } from '../../live/live-hub.js';
import { REQUEST_LIMITS } from '../limits.js';
import { corsAllowedOrigin, setCorsHeaders } from '../security.js';
import { codeOf, type LiveOperations, type LiveRequest } from './live-operations.js';
import type { StallWatch } from './stall-watch.js';

/**
 * GraphQL over Server-Sent Events, the "distinct connections" mode of the graphql-sse protocol: `POST /graphql` with
 * `Accept: text/event-stream`, the operation as the JSON body (or GET with `query`, `variables`, `operationName` in the
 * query string) and the key in `Authorization`; each result is an `event: next`, the end an `event: complete`. For
 * clients behind proxies that drop WebSockets (graphql-sse's client with `singleConnection: false` speaks it).
 *
 * Written here rather than with graphql-sse's handler, which reads the subscription's events as fast as they come
 * into a queue of its own, unbounded: here the next event is taken only once the previous one is written out, so a
 * client that does not read leaves its events in the subscription's bounded queue (SLOW_CONSUMER past it).
 */
export function wantsEventStream(req: IncomingMessage): boolean {
  return (req.headers.accept ?? '').includes('text/event-stream');
}

const jsonAnswer = (res: ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};

const statusOf = (error: { extensions?: Record<string, unknown> }) => {
  const code = codeOf(error);
  return code === 'UNAUTHENTICATED' ? 401 : code === 'RATE_LIMITED' || code === 'TOO_MANY_SUBSCRIPTIONS' ? 429 : code === 'FORBIDDEN' ? 403 : 400;
};

async function readRequest(req: IncomingMessage): Promise<LiveRequest | string> {
  if (req.method === 'GET') {
    const params = new URL(req.url ?? '/', 'http://localhost').searchParams;
    let variables: unknown;
    try {
      variables = params.has('variables') ? JSON.parse(params.get('variables')!) : undefined;
    } catch {
      return 'The `variables` parameter is not valid JSON.';
    }
    return { query: params.get('query') ?? undefined, variables, operationName: params.get('operationName') ?? undefined };
  }
  if (req.method !== 'POST') return 'Use POST (or GET) with Accept: text/event-stream.';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > REQUEST_LIMITS.maxBodyBytes) return `The request body may be at most ${REQUEST_LIMITS.maxBodyBytes} bytes.`;
    chunks.push(chunk);
  }
  try {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as LiveRequest) : 'The request body must be one GraphQL operation (a JSON object).';
  } catch {
    return 'The request body is not valid JSON.';
  }
}

export function createSseHandler(options: { operations: LiveOperations; hub: LiveHub; corsOrigins: readonly string[]; stalls: StallWatch }) {
  const { operations, hub, stalls } = options;
  const open = new Set<ServerResponse>();
  return {
    /** Open event streams (metrics, tests). */
    get streams() {
      return open.size;
    },
    async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
      const allowOrigin = corsAllowedOrigin(options.corsOrigins, req.headers.origin);
      if (allowOrigin) setCorsHeaders(res, allowOrigin);
      const request = await readRequest(req);
      if (typeof request === 'string') return jsonAnswer(res, 400, { errors: [{ message: request, extensions: { code: 'BAD_REQUEST' } }] });
      let release = () => {};
      let prepared;
      try {
        const viewer = await operations.authenticate(req.headers.authorization, req.socket.remoteAddress ?? 'unknown');
        release = hub.connect({ apiKeyId: viewer.apiKeyId, close: () => setTimeout(() => res.end(), 2_000).unref() });
        // It does not read: nothing it was sent drains, so its stream is cut.
        prepared = operations.prepare(viewer, request, () => res.destroy());
      } catch (error) {
        release();
        const refusal = error instanceof GraphQLError ? error : new GraphQLError('The request could not be authorized.');
        return jsonAnswer(res, statusOf(refusal), { errors: operations.formatErrors([refusal]) });
      }
      if (Array.isArray(prepared)) {
        release();
        return jsonAnswer(res, statusOf(prepared[0]!), { errors: operations.formatErrors(prepared) });
      }
      open.add(res);
      const unwatch = stalls.watch(req.socket, () => res.destroy());
      // Listened for before anything is awaited: a client gone meanwhile must still end the subscription.
      let iterator: AsyncIterator<ExecutionResult> | null = null;
      let ended = false;
      // A write's callback may never come once the connection is gone: the close settles it.
      let pendingWrite: ((written: boolean) => void) | null = null;
      const stop = () => {
        if (ended) return;
        ended = true;
        pendingWrite?.(false);
        void iterator?.return?.();
      };
      res.once('close', stop);
      const write = (text: string) =>
        new Promise<boolean>((resolve) => {
          if (!res.writable || ended) return resolve(false);
          pendingWrite = resolve;
          res.write(text, (err) => {
            pendingWrite = null;
            resolve(!err);
          });
        });
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      // Proxies drop idle streams: a comment line every 12 s keeps it open (graphql-sse's client ignores it).
      const keepAlive = setInterval(() => void write(':\n\n'), 12_000);
      try {
        await write(':\n\n');
        const result = await subscribe(prepared as Parameters<typeof subscribe>[0]);
        iterator = Symbol.asyncIterator in result ? result[Symbol.asyncIterator]() : (async function* () { yield result as ExecutionResult; })();
        if (ended) await iterator.return?.();
        while (!ended) {
          const next = await iterator.next();
          if (next.done || ended) break;
          const formatted = operations.format(next.value);
          if (!(await write(`event: next\ndata: ${JSON.stringify(formatted)}\n\n`))) break;
          if (formatted.errors?.some((error) => codeOf(error) === 'SLOW_CONSUMER')) break;
        }
        await write('event: complete\ndata: \n\n');
      } finally {
        clearInterval(keepAlive);
        stop();
        release();
        unwatch();
        open.delete(res);
        res.end();
      }
    },
    /** Ends every stream (the subscriptions themselves are ended by the hub). */
    close(): void {
      for (const res of open) res.end();
    },
  };
}
