/**
 * The abuse benchmark's HTTP client: one POST /graphql, its answer read with a size cap (an attack may make the
 * server answer gigabytes) and classified by HTTP status and GraphQL `extensions.code`.
 */
import http from 'node:http';

/** Codes that are a clear refusal of a hostile request. */
export const CLEAR_REFUSALS = new Set([
  'QUERY_TOO_COMPLEX',
  'QUERY_TOO_LONG',
  'QUERY_TOO_DEEP',
  'RATE_LIMITED',
  'BAD_USER_INPUT',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'BATCH_TOO_LARGE',
  'PAYLOAD_TOO_LARGE',
  'BAD_REQUEST',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
]);

/**
 * `refused`: every part is a clear refusal; `answered`: 200 with data for at least one part (a batch may mix);
 * `bad`: anything else (5xx, INTERNAL_SERVER_ERROR, SERVICE_UNAVAILABLE, an error without a code, a timeout, a
 * network error, an answer over the size cap); `cancelled`: cut off by the end of its phase, not counted.
 */
export type Verdict = 'refused' | 'answered' | 'bad' | 'cancelled';

export type Answer = {
  ms: number;
  /** `<status> <codes or "data", joined by +>`, `timeout`, `network:<code>`, `<status> body>NMB`. */
  label: string;
  verdict: Verdict;
  status: number;
  bytes: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are read ad hoc
  json?: any;
};

export type PostOptions = {
  key?: string | null;
  timeoutMs: number;
  signal?: AbortSignal;
  maxBytes?: number;
  /**
   * The loopback address to send from (127.0.0.1 unless told): the server limits failed authentications per client
   * address, so abusers get addresses of their own, as they would have outside this machine. Requests always go to
   * the server's own address.
   */
  from?: string;
};

const DEFAULT_MAX_BYTES = 16 << 20;
const agents = new Map<string, http.Agent>();
/** A keep-alive agent per source address. */
function agentFrom(address: string): http.Agent {
  let agent = agents.get(address);
  if (!agent) agents.set(address, (agent = new http.Agent({ keepAlive: true, localAddress: address, maxSockets: 64 })));
  return agent;
}

/** Closes the kept-alive connections (at the end of a run). */
export function closeAgents(): void {
  for (const agent of agents.values()) agent.destroy();
  agents.clear();
}

type Raw = { status: number; body: Buffer; bytes: number; truncated: boolean };

function rawPost(url: string, payload: string, headers: Record<string, string>, options: PostOptions, signal: AbortSignal, maxBytes: number): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/graphql`, { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(payload)) }, agent: agentFrom(options.from ?? '127.0.0.1'), signal }, (res) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > maxBytes) {
          res.destroy();
          resolve({ status: res.statusCode ?? 0, body: Buffer.alloc(0), bytes, truncated: true });
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), bytes, truncated: false }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** POSTs `body` (an object, an array for a batch, or an already serialized string) to `<url>/graphql`. */
export async function postGraphql(url: string, body: unknown, options: PostOptions): Promise<Answer> {
  const started = performance.now();
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
  let raw: Raw;
  try {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...(options.key ? { authorization: `Bearer ${options.key}` } : {}) };
    raw = await rawPost(url, typeof body === 'string' ? body : JSON.stringify(body), headers, options, signal, maxBytes);
  } catch (err) {
    if (options.signal?.aborted && !timeout.aborted) return { ms: elapsed(), label: 'cancelled', verdict: 'cancelled', status: 0, bytes: 0 };
    if (timeout.aborted) return { ms: elapsed(), label: 'timeout', verdict: 'bad', status: 0, bytes: 0 };
    return { ms: elapsed(), label: `network:${(err as { code?: string }).code ?? (err as Error).name}`, verdict: 'bad', status: 0, bytes: 0 };
  }
  const ms = elapsed();
  const { status, bytes } = raw;
  if (raw.truncated) return { ms, label: `${status} body>${Math.round(maxBytes / 1e6)}MB`, verdict: 'bad', status, bytes };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let json: any;
  try {
    json = JSON.parse(raw.body.toString('utf8'));
  } catch {
    return { ms, label: `${status} non-JSON`, verdict: status >= 400 && status < 500 ? 'refused' : 'bad', status, bytes };
  }
  const parts: string[] = [];
  for (const result of Array.isArray(json) ? json : [json]) {
    const errors = (result?.errors ?? []) as Array<{ extensions?: { code?: unknown } }>;
    if (errors.length === 0) parts.push(result?.data != null ? 'data' : 'empty');
    for (const e of errors) parts.push(typeof e.extensions?.code === 'string' ? e.extensions.code : 'NO_CODE');
  }
  const unique = [...new Set(parts)].sort();
  const label = `${status} ${unique.join('+')}`;
  let verdict: Verdict;
  if (status >= 500 || unique.some((p) => p !== 'data' && !CLEAR_REFUSALS.has(p))) verdict = 'bad';
  else if (unique.includes('data')) verdict = status === 200 ? 'answered' : 'bad';
  else verdict = 'refused';
  return { ms, label, verdict, status, bytes, json };
}

/** GET `<url><path>`, timed; status 0 on a timeout or network error. */
export async function timedGet(url: string, path: string, timeoutMs: number): Promise<{ ms: number; status: number }> {
  const started = performance.now();
  try {
    const res = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return { ms: Math.round((performance.now() - started) * 10) / 10, status: res.status };
  } catch {
    return { ms: Math.round((performance.now() - started) * 10) / 10, status: 0 };
  }
}
