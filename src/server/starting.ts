import http from 'node:http';

/** What the server is doing before it serves: shown by /ready and /health while it starts. */
export type StartPhase = 'database' | 'migrations' | 'demo data' | 'server';

export type StartingListener = {
  /** Listening already; `createServer({ httpServer })` takes it over (its request handler replaces this one). */
  httpServer: http.Server;
  url: string;
  setPhase(phase: StartPhase): void;
};

const json = (res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
};

/**
 * Listens while the server starts (opening a new embedded database, migrations, the block catalogue and demo data
 * take seconds), so that probes get an answer rather than a refused connection: `/live` 200 (the process is up; do
 * not restart it), `/ready` and `/health` 503 with the phase, everything else 503 with Retry-After, in GraphQL's
 * error shape.
 */
export async function listenWhileStarting(port: number, host: string): Promise<StartingListener> {
  let phase: StartPhase = 'database';
  const httpServer = http.createServer((req, res) => {
    const path = req.url?.split('?')[0];
    if (path === '/live') json(res, 200, { status: 'ok' });
    else if (path === '/ready' || path === '/health') json(res, 503, { status: 'starting', phase });
    else {
      // The body is not read: the connection closes after the answer.
      json(res, 503, { errors: [{ message: 'The server is starting; retry in a few seconds.', extensions: { code: 'SERVICE_UNAVAILABLE' } }] }, { 'retry-after': '2', connection: 'close' });
    }
  });
  const url = await listenOn(httpServer, port, host);
  return { httpServer, url, setPhase: (next) => (phase = next) };
}

/** Listens (unless listening already) and resolves with the URL the server answers at. */
export function listenOn(server: http.Server, port: number, host: string): Promise<string> {
  const urlOf = () => {
    const address = server.address();
    const actualPort = typeof address === 'object' && address ? address.port : port;
    return `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
  };
  if (server.listening) return Promise.resolve(urlOf());
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(urlOf());
    });
  });
}
