import { HeaderMap, type ApolloServer } from '@apollo/server';
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { GraphQLContext } from '../context.js';
import type { ErrorCode } from '../errors.js';
import { withPrecomputed, type HotOperations, type HotRequest, type Precomputed } from './hot-operations.js';
import { batchRefusal, oversizedAnswer } from './limits.js';
import { httpStatusOf, type PersistedDocuments } from './persisted-documents.js';
import type { Tarpit } from './rate-limit.js';
import { recordRefusal, requestRecordOf } from './telemetry/request-record.js';
import type { RequestTelemetry } from './telemetry/request-telemetry.js';
import { API_SECURITY_HEADERS, corsAllowedOrigin } from './security.js';

/**
 * The common GraphQL request — `POST /graphql` with a JSON body of a stated length — answered on node:http
 * directly, through Apollo's integration entry point (`executeHTTPGraphQLRequest`, what @as-integrations/express5
 * calls). Express's request setup, router and body-parser cost 0.17 ms of CPU per request on this machine against
 * 0.03 ms for node:http alone, a sixth of a one-statement query's whole budget. Every other request — GET,
 * OPTIONS, other content types or encodings, chunked bodies, a query string, other paths — goes to the Express app,
 * which keeps the complete behaviour; this path answers exactly as it does (tests/api/graphql-fast-path.test.ts).
 * Requests for hot operations (hot-operations.ts) are executed here without Apollo's pipeline.
 */
export type GraphQLFastPathOptions = {
  apollo: ApolloServer<GraphQLContext>;
  /** Operations answered without Apollo's pipeline (hot-operations.ts). */
  hotOperations?: HotOperations;
  /** Documents sent by id, and the refusal of unknown ones (persisted-documents.ts). */
  persistedDocuments?: PersistedDocuments;
  /** The request's context, from its headers and its parsed body (refusals that need neither parsing nor execution). */
  context: (req: IncomingMessage, body: unknown) => Promise<GraphQLContext>;
  corsOrigins: readonly string[];
  log: Logger;
  limits: { maxBodyBytes: number; maxBatch: number; maxResponseBytes: number };
  /** Charges an admitted hot operation to its request and client (limits.ts); throws when it may not run. */
  admit(context: GraphQLContext, hot: HotRequest): void;
  /** Where 429 answers wait before they are written (rate-limit.ts). */
  tarpit?: Tarpit;
  /** Operations executed here are recorded as Apollo's plugin records the others (metrics, traces, access log). */
  telemetry?: RequestTelemetry;
};

const JSON_CONTENT_TYPE = /^application\/json\s*(?:;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;
const DECIMAL = /^\d{1,15}$/;

/** Whether this path takes the request; the rest is Express's. */
export function takesFastPath(req: Pick<IncomingMessage, 'method' | 'url' | 'headers'>, maxBodyBytes: number): boolean {
  if (req.method !== 'POST' || req.url !== '/graphql') return false;
  const { headers } = req;
  const encoding = headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return false;
  if (headers['transfer-encoding'] !== undefined) return false;
  const length = headers['content-length'];
  if (length === undefined || !DECIMAL.test(length)) return false;
  const bytes = Number(length);
  // An empty body and an oversized one are answered by body-parser's rules (the latter after draining it).
  if (bytes === 0 || bytes > maxBodyBytes) return false;
  return JSON_CONTENT_TYPE.test(headers['content-type'] ?? '');
}

/** Apollo's content type for JSON answers, and ours for refusals. */
const JSON_ANSWER_HEADERS: Array<[string, string]> = [['content-type', 'application/json; charset=utf-8']];

const jsonError = (code: ErrorCode, message: string) => JSON.stringify({ errors: [{ message, extensions: { code } }] });

/** A JSON object or array (body-parser's strict mode), or the reason it is refused. */
function parseBody(raw: Buffer): { body: unknown } | { refusal: string } {
  if (!isUtf8(raw)) return { refusal: 'The request body is not valid UTF-8.' };
  let text = raw.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const first = /^[ \t\n\r]*(.)/.exec(text)?.[1];
  if (first !== '{' && first !== '[') return { refusal: 'The request body is not valid JSON.' };
  try {
    return { body: JSON.parse(text) };
  } catch {
    return { refusal: 'The request body is not valid JSON.' };
  }
}

/** Returns a request listener step: true when it took the request, false to hand it to Express. */
export function graphqlFastPath(options: GraphQLFastPathOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { apollo, log } = options;
  const { maxBodyBytes, maxBatch, maxResponseBytes } = options.limits;

  const answer = (req: IncomingMessage, res: ServerResponse, status: number, headers: Array<[string, string]>, body: string) => {
    // Encoded once: `Buffer.byteLength` and then writing the string would each walk it (a 200 KB answer wrote 1 ms
    // faster as a Buffer, measured).
    let bytes = Buffer.from(body, 'utf8');
    const replacement = oversizedAnswer(bytes.length, maxResponseBytes);
    if (replacement) {
      log.warn({ bytes: bytes.length }, 'answer over the response size limit replaced by RESPONSE_TOO_LARGE');
      bytes = Buffer.from(replacement, 'utf8');
      status = 400;
      headers = JSON_ANSWER_HEADERS;
    }
    const allowOrigin = corsAllowedOrigin(options.corsOrigins, req.headers.origin);
    const all: Array<readonly [string, string]> = [...API_SECURITY_HEADERS, ...headers];
    if (allowOrigin) all.push(['Access-Control-Allow-Origin', allowOrigin], ['Vary', 'Origin']);
    all.push(['Content-Length', String(bytes.length)]);
    const write = () => {
      if (res.destroyed) return;
      res.writeHead(status, all.flat());
      res.end(bytes);
    };
    if (status === 429 && options.tarpit) options.tarpit(write, res);
    else write();
  };
  const refuse = (req: IncomingMessage, res: ServerResponse, status: number, code: ErrorCode, message: string) => {
    recordRefusal(req, code);
    answer(req, res, status, JSON_ANSWER_HEADERS, jsonError(code, message));
  };

  const executeOnApollo = async (req: IncomingMessage, res: ServerResponse, body: unknown, context: () => Promise<GraphQLContext>) => {
    const headers = new HeaderMap();
    for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    const response = await apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest: { method: 'POST', headers, search: '', body }, context });
    const responseHeaders = [...response.headers];
    if (response.body.kind === 'complete') {
      answer(req, res, response.status ?? 200, responseHeaders, response.body.string);
      return;
    }
    // Incremental delivery (not offered by this schema today): streamed as Apollo produces it.
    res.writeHead(response.status ?? 200, [...API_SECURITY_HEADERS, ...responseHeaders].flat());
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  };

  /** A hot operation: answered here when it succeeds; Apollo reports its errors (and a failed context) itself. */
  const executeHot = async (req: IncomingMessage, res: ServerResponse, body: unknown, hot: HotRequest) => {
    let context: GraphQLContext;
    try {
      context = await options.context(req, body);
      options.admit(context, hot);
    } catch (err) {
      return executeOnApollo(req, res, body, () => Promise.reject(err));
    }
    const operation = options.telemetry?.startOperation(context.request, 'hot') ?? null;
    if (operation) {
      operation.name = hot.operation.operation.name?.value ?? null;
      operation.type = hot.operation.operation.operation;
    }
    let outcome: Precomputed;
    try {
      outcome = { result: await hot.operation.execute(context, hot.variables) };
    } catch (error) {
      outcome = { error };
    }
    if ('result' in outcome && !outcome.result.errors) {
      options.telemetry?.finishOperation(operation);
      // What Apollo writes for a result without errors (runHttpQuery's prettyJSONStringify of data and extensions).
      const { data, extensions } = outcome.result;
      answer(req, res, 200, JSON_ANSWER_HEADERS, `${JSON.stringify({ data, extensions })}\n`);
      return;
    }
    // Apollo formats and reports the errors; its telemetry plugin finishes this operation's record.
    return executeOnApollo(req, res, body, async () => withPrecomputed(context, outcome));
  };

  const execute = (req: IncomingMessage, res: ServerResponse, body: unknown) => {
    const hot = options.hotOperations?.match(body, req.headers.accept);
    return hot ? executeHot(req, res, body, hot) : executeOnApollo(req, res, body, () => options.context(req, body));
  };

  return (req, res) => {
    if (!takesFastPath(req, maxBodyBytes)) return false;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('error', () => {
      if (!res.headersSent) refuse(req, res, 400, 'BAD_REQUEST', 'The request could not be read.');
    });
    req.once('end', () => {
      const parsed = parseBody(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
      if ('refusal' in parsed) return refuse(req, res, 400, 'BAD_REQUEST', parsed.refusal);
      const { body } = parsed;
      const batchRefused = batchRefusal(body, maxBatch);
      if (batchRefused) return refuse(req, res, 400, 'BATCH_TOO_LARGE', batchRefused);
      const notPersisted = options.persistedDocuments?.resolveBody(body);
      if (notPersisted) return refuse(req, res, httpStatusOf(notPersisted), notPersisted.extensions.code as ErrorCode, notPersisted.message);
      execute(req, res, body).catch((err: unknown) => {
        log.error({ err, requestId: requestRecordOf(req)?.id }, 'GraphQL request failed outside Apollo');
        if (!res.headersSent) refuse(req, res, 500, 'INTERNAL_SERVER_ERROR', 'Internal server error');
        else res.destroy();
      });
    });
    return true;
  };
}
