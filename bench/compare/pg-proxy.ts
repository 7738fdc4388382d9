/**
 * A pass-through TCP proxy in front of PostgreSQL that counts the statements a server sends: simple-protocol
 * Query ('Q') and extended-protocol Execute ('E') messages, BEGIN/COMMIT included. It reads only message
 * headers (and, when asked, the SQL of Parse/Query messages), so it sees every client library alike — Prisma's
 * driver adapter, PostGraphile's pg pool, the floor's pg pool. Used in the counting phase only, never while timing.
 */
import net from 'node:net';

export type StatementCounter = {
  port: number;
  /** Statements since start. */
  count(): number;
  /** SQL texts seen in Parse / Query messages since the last call (for the report), most frequent first. */
  takeTexts(): Map<string, number>;
  close(): Promise<void>;
};

export async function startCountingProxy(target: { host: string; port: number }): Promise<StatementCounter> {
  let statements = 0;
  let texts = new Map<string, number>();
  const sockets = new Set<net.Socket>();
  const note = (sql: string) => texts.set(sql, (texts.get(sql) ?? 0) + 1);

  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    sockets.add(client).add(upstream);
    let buffer: Buffer = Buffer.alloc(0);
    let started = false;
    // Statement texts by name on this connection: a named statement is parsed once, then only bound and executed.
    const parsed = new Map<string, string>();
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
      let offset = 0;
      for (;;) {
        if (!started) {
          // Startup / SSLRequest / CancelRequest: int32 length (including itself), no type byte.
          if (buffer.length - offset < 4) break;
          const length = buffer.readInt32BE(offset);
          if (buffer.length - offset < length) break;
          const code = buffer.readInt32BE(offset + 4);
          offset += length;
          if (code !== 80877103) started = true; // not an SSLRequest: the startup message
          continue;
        }
        if (buffer.length - offset < 5) break;
        const type = String.fromCharCode(buffer[offset]!);
        const length = buffer.readInt32BE(offset + 1);
        if (buffer.length - offset < 1 + length) break;
        if (type === 'Q' || type === 'E') statements++;
        if (type === 'Q') note(buffer.toString('utf8', offset + 5, offset + length).replace(/\0$/, ''));
        if (type === 'P') {
          const body = buffer.subarray(offset + 5, offset + 1 + length);
          const nameEnd = body.indexOf(0);
          const sqlEnd = body.indexOf(0, nameEnd + 1);
          parsed.set(body.toString('utf8', 0, nameEnd), body.toString('utf8', nameEnd + 1, sqlEnd));
        }
        if (type === 'B') {
          // Bind: portal name, then statement name, each NUL-terminated.
          const body = buffer.subarray(offset + 5, offset + 1 + length);
          const portalEnd = body.indexOf(0);
          const statement = body.toString('utf8', portalEnd + 1, body.indexOf(0, portalEnd + 1));
          note(parsed.get(statement) ?? `(statement ${statement} parsed before counting)`);
        }
        offset += 1 + length;
      }
      buffer = offset === buffer.length ? Buffer.alloc(0) : buffer.subarray(offset);
    });
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    count: () => statements,
    takeTexts() {
      const taken = new Map([...texts].sort((a, b) => b[1] - a[1]));
      texts = new Map();
      return taken;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
