import type http from 'node:http';
import { GraphQLError, type ExecutionResult } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type { LiveHub } from '../../live/live-hub.js';
import type { Viewer } from '../../modules/auth/viewer.js';
import { REQUEST_LIMITS } from '../limits.js';
import { codeOf, type LiveOperations } from './live-operations.js';
import type { StallWatch } from './stall-watch.js';

/**
 * graphql-ws on `/graphql` (the `graphql-transport-ws` subprotocol). The API key comes in the connection's init
 * payload (`{ "authorization": "Bearer <key>" }`); a connection without a valid one is closed 4401 with the reason.
 * A key revoked while connected has its connections closed 4401 "The API key has been revoked.", a subscriber that
 * falls behind has its connection closed 4400 (after the SLOW_CONSUMER error, if the client still reads).
 */
type Extra = { socket: WebSocket; request: http.IncomingMessage; viewer?: Viewer; release?: () => void; unwatch?: () => void };

/** WebSocket close reasons are at most 123 bytes. */
const reasonOf = (message: string) => (Buffer.byteLength(message) <= 123 ? message : `${message.slice(0, 110)}…`);

const CLOSE_UNAUTHORIZED = 4401;
const CLOSE_FORBIDDEN = 4403;
const CLOSE_TOO_MANY = 4409;
const CLOSE_SLOW_CONSUMER = 4400;
const CLOSE_SHUTTING_DOWN = 1001;

function closeCodeOf(error: GraphQLError): number {
  switch (codeOf(error)) {
    case 'UNAUTHENTICATED':
      return CLOSE_UNAUTHORIZED;
    case 'TOO_MANY_SUBSCRIPTIONS':
    case 'RATE_LIMITED':
      return CLOSE_TOO_MANY;
    case 'SHUTTING_DOWN':
      return CLOSE_SHUTTING_DOWN;
    default:
      return CLOSE_FORBIDDEN;
  }
}

/** Closes a connection whose client does not read; its buffers are not drained, so the close is forced shortly after. */
function closeSlow(socket: WebSocket): void {
  socket.close(CLOSE_SLOW_CONSUMER, 'Slow consumer: events were not read fast enough.');
  setTimeout(() => socket.terminate(), 1_000).unref();
}

export function attachWebSocketTransport(options: { httpServer: http.Server; path: string; operations: LiveOperations; hub: LiveHub; log: Logger; stalls: StallWatch }) {
  const { operations, hub, log, stalls } = options;
  const wss = new WebSocketServer({ noServer: true, maxPayload: REQUEST_LIMITS.maxBodyBytes });
  const onUpgrade = (req: http.IncomingMessage, socket: import('node:stream').Duplex, head: Buffer) => {
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== options.path) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  };
  options.httpServer.on('upgrade', onUpgrade);

  const server = useServer<Record<string, unknown> | undefined, Extra>(
    {
      connectionInitWaitTimeout: 5_000,
      onConnect: async (ctx) => {
        const params = ctx.connectionParams ?? {};
        const authorization = params.authorization ?? params.Authorization;
        const socket = ctx.extra.socket;
        try {
          const viewer = await operations.authenticate(typeof authorization === 'string' ? authorization : undefined, ctx.extra.request.socket.remoteAddress ?? 'unknown');
          ctx.extra.viewer = viewer;
          ctx.extra.release = hub.connect({ apiKeyId: viewer.apiKeyId, close: (error) => socket.close(closeCodeOf(error), reasonOf(error.message)) });
          ctx.extra.unwatch = stalls.watch(ctx.extra.request.socket, () => closeSlow(socket));
          return true;
        } catch (error) {
          const refusal = error instanceof GraphQLError ? error : new GraphQLError('The connection could not be authorized.', { extensions: { code: 'UNAUTHENTICATED' } });
          socket.close(closeCodeOf(refusal), reasonOf(refusal.message));
          return false;
        }
      },
      onSubscribe: (ctx, _id, payload) => {
        const prepared = operations.prepare(ctx.extra.viewer!, payload, () => closeSlow(ctx.extra.socket));
        return Array.isArray(prepared) ? operations.maskedErrors(prepared) : (prepared as ReturnType<typeof operations.prepare> & object);
      },
      onNext: (_ctx, _id, _payload, _args, result) => operations.format(result as ExecutionResult),
      onError: (_ctx, _id, _payload, errors) => operations.maskedErrors(errors),
      onClose: (ctx) => {
        ctx.extra.release?.();
        ctx.extra.unwatch?.();
      },
      onDisconnect: (ctx) => {
        ctx.extra.release?.();
        ctx.extra.unwatch?.();
      },
    },
    wss,
    12_000,
  );
  log.debug({ path: options.path }, 'graphql-ws listening');
  return {
    /** Open WebSocket connections (metrics, tests). */
    get connections() {
      return wss.clients.size;
    },
    async close() {
      options.httpServer.off('upgrade', onUpgrade);
      await server.dispose();
    },
  };
}
