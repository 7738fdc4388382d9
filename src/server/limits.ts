import type { ApolloServerPlugin } from '@apollo/server';
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import { GraphQLError, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import type { GraphQLContext, RequestBudget } from '../context.js';
import type { ErrorCode } from '../errors.js';
import type { CostCaller } from './cost/field-costs.js';
import { createCostModel, type Analysis } from './cost/operation-cost.js';
import type { RateLimiter, Tarpit } from './rate-limit.js';
import { recordRefusal } from './telemetry/request-record.js';

export const REQUEST_LIMITS = {
  /**
   * Tokens of a document, counted while parsing (parsing stops past it). Bounds the work done on a document before
   * its cost is known: parsing and validating a unique 65 KB document (13,000 tokens) took ~30 ms of the event loop
   * and 130 ms on first use; 5,000 tokens (~25 KB) take ~8 ms. Introspection and the README's queries are under 250.
   */
  maxTokens: 5_000,
  /**
   * Characters of a document: a longer one is refused before it is parsed (QUERY_TOO_LONG), and charged like a refused
   * operation. Lexing a 65 KB document up to the token limit takes 7 ms warm and 25 ms cold; a few keys sending
   * batches of them at once held the event loop for half a second (bench:abuse, attacks 3a, 3b and 6). Dense documents
   * still stop at `maxTokens`; the README's queries and introspection are under 2,000 characters.
   */
  maxDocumentLength: 20_000,
  /** Nesting of selection sets, fragments included. */
  maxDepth: 12,
  /** Estimated cost (cost/operation-cost.ts): fields resolved, every list multiplying what is below it, plus weights. */
  maxCost: 250_000,
  maxBatch: 10,
  maxBodyBytes: 1_000_000,
  /** A serialized answer larger than this is replaced by RESPONSE_TOO_LARGE (the cost model keeps most far below). */
  maxResponseBytes: 16_000_000,
};

/**
 * Query texts longer than this are never compiled with graphql-jit: compiling is ~20 µs per character of the document
 * (a unique 65 KB document blocked the event loop 1.2 s; 5,000 characters are ~0.1 s), and long documents are
 * one-offs, not the hot queries compiling is for (the dashboard's are under 500 characters).
 */
export const MAX_COMPILED_QUERY_LENGTH = 5_000;

const DEADLINE_RETRY_SECONDS = 5;

const deadlineExceeded = () =>
  new GraphQLError('The request ran past its deadline and was stopped; ask for less, or retry later.', {
    extensions: { code: 'DEADLINE_EXCEEDED' satisfies ErrorCode, http: { status: 503, headers: new Map([['retry-after', String(DEADLINE_RETRY_SECONDS)]]) } },
  });

/**
 * The request's execution, refused with DEADLINE_EXCEEDED once its deadline passes. What it had started goes on in
 * the background until its statements end (every statement has a statement_timeout), but the client is answered.
 */
export function withinDeadline<T>(work: Promise<T>, budget: RequestBudget | undefined): Promise<T> {
  if (!budget) return work;
  const remaining = budget.deadline - Date.now();
  if (remaining <= 0) {
    work.catch(() => {});
    return Promise.reject(deadlineExceeded());
  }
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(deadlineExceeded()), remaining);
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

/** The body answered instead of one over `maxResponseBytes`, or null when the answer may go out as it is. */
export function oversizedAnswer(bytes: number, maxResponseBytes: number): string | null {
  if (bytes <= maxResponseBytes) return null;
  return JSON.stringify(jsonError('RESPONSE_TOO_LARGE', `The answer would be ${bytes} bytes; at most ${maxResponseBytes} are sent. Ask for fewer items or fields.`));
}

/**
 * The same limits on answers written by Express (GET requests and the rest of what the fast path leaves to it): the
 * size limit, and 429s through the tarpit (rate-limit.ts).
 */
export function limitResponses(maxResponseBytes: number, tarpit?: Tarpit): RequestHandler {
  return (req, res, next) => {
    const send = res.send.bind(res);
    res.send = (body?: unknown) => {
      const bytes = typeof body === 'string' ? Buffer.byteLength(body) : Buffer.isBuffer(body) ? body.length : 0;
      const replacement = oversizedAnswer(bytes, maxResponseBytes);
      if (replacement) {
        recordRefusal(req, 'RESPONSE_TOO_LARGE');
        res.status(400).setHeader('content-type', 'application/json; charset=utf-8');
        return send(replacement);
      }
      if (res.statusCode === 429 && tarpit) {
        tarpit(() => send(body), res);
        return res;
      }
      return send(body);
    };
    next();
  };
}

/**
 * What a refused operation costs its key (a tenth of the largest operation): refusals are cheap but not free, and a
 * client hammering the server with refused documents runs out of cost like one running expensive ones.
 */
const REFUSAL_COST = 25_000;
/** Sets of cost-relevant variable values whose analysis is kept per operation (page sizes: a handful). */
const MAX_ANALYSES_PER_OPERATION = 16;
const OMITTED = '\u0000omitted';
/** Parsing and validating a document not seen before: measured ~30 ms for a unique 65 KB document, in cost units. */
const PARSE_COST_PER_CHARACTER = 0.5;

/**
 * The cost-relevant variables' values as a key, or null when they are not worth keeping (long, or nested too deep to
 * serialize: JSON variables are checked by their scalars, after this).
 */
function valuesKey(names: string[], variables: Record<string, unknown>): string | null {
  try {
    // An omitted variable takes its default, unlike an explicit null: they must not share an analysis.
    const key = JSON.stringify(names.map((name) => (variables[name] === undefined ? OMITTED : variables[name])));
    return key.length <= 1_000 ? key : null;
  } catch {
    return null;
  }
}

const rejection = (code: ErrorCode, message: string, status = 400) => new GraphQLError(message, { extensions: { code, http: { status } } });

export type Admission = { analysis: Analysis; refusal: GraphQLError | null };

export type OperationLimits = {
  /**
   * The operation's depth and cost with these variables, and why it may not run (null when it may). Without `caller`
   * (before authentication) the analysis is that of a non-admin; `analysis.byCaller` says whether it depends on it.
   */
  check(document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>, caller?: CostCaller): Admission;
  /**
   * Charges an admitted operation to its request (a batch's operations together stay under the cost limit) and to its
   * client's rate limits; throws QUERY_TOO_COMPLEX or RATE_LIMITED.
   */
  admit(context: Pick<GraphQLContext, 'viewer' | 'budget'>, analysis: Analysis): void;
  /** Charges a request refused before its document was parsed to its key, like a refused operation. */
  chargeRefusal(context: Pick<GraphQLContext, 'viewer'>): void;
  /** The same checks in Apollo's pipeline, for every operation of every request (batches included). */
  plugin: ApolloServerPlugin<GraphQLContext>;
};

/**
 * Refuses operations nested deeper than `maxDepth` or estimated to cost more than `maxCost` (cost/operation-cost.ts),
 * once variables are known and before anything executes, and charges what runs to the client's rate limits. (A plugin
 * rather than a validation rule: Apollo would replace a validation rule's error code with GRAPHQL_VALIDATION_FAILED.)
 * `check` and `admit` are the same steps for the hot-operation path, which answers without Apollo's pipeline.
 */
export function operationLimits(schema: GraphQLSchema, limits: { maxDepth: number; maxCost: number }, rateLimiter?: RateLimiter | null): OperationLimits {
  const model = createCostModel(schema);
  // An operation's analysis is kept per values of the variables it depends on (costVariables): a query whose pages
  // are literals is analysed once per parsed document, whatever ids its variables carry (Apollo keeps parsed
  // documents, so a hot query is analysed once, not on every request). A few sets of values per operation at most.
  const analyses = new WeakMap<OperationDefinitionNode, { variables: string[]; byValues: Map<string, Admission> }>();
  const judge = (document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>, caller: CostCaller): Admission => {
    const analysis = model.analyze(document, operation, variables, limits.maxCost, caller);
    let refusal: GraphQLError | null = null;
    if (analysis.depth > limits.maxDepth) {
      refusal = rejection('QUERY_TOO_DEEP', `The operation nests ${analysis.depth} levels deep; at most ${limits.maxDepth} are allowed.`);
    } else if (analysis.cost > limits.maxCost) {
      refusal = rejection('QUERY_TOO_COMPLEX', `The operation's estimated cost exceeds ${limits.maxCost}. Ask for smaller pages or fewer nested lists.`);
    }
    return { analysis, refusal };
  };
  const check: OperationLimits['check'] = (document, operation, variables, caller = { admin: false }) => {
    let known = analyses.get(operation);
    if (!known) analyses.set(operation, (known = { variables: operation.variableDefinitions?.length ? model.costVariables(document, operation) : [], byValues: new Map() }));
    const values = known.variables.length ? valuesKey(known.variables, variables) : '';
    const key = values === null ? null : `${caller.admin ? 'admin' : 'user'}|${values}`;
    let admission = key === null ? undefined : known.byValues.get(key);
    if (!admission) {
      admission = judge(document, operation, variables, caller);
      if (key !== null && known.byValues.size < MAX_ANALYSES_PER_OPERATION) known.byValues.set(key, admission);
    }
    return admission;
  };
  // Documents charged for their parsing: Apollo hands the same DocumentNode for a text it has parsed before, so a new
  // object is a document parsed and validated for this request (a stream of unique documents is work the estimate
  // of what they execute does not see).
  const parsed = new WeakSet<DocumentNode>();
  const chargeParsing = (context: Pick<GraphQLContext, 'viewer'>, document: DocumentNode) => {
    if (parsed.has(document)) return;
    parsed.add(document);
    if (context.viewer) rateLimiter?.chargeCost(context.viewer.apiKeyId, Math.ceil((document.loc?.end ?? 0) * PARSE_COST_PER_CHARACTER));
  };
  const chargeRefusal = (context: Pick<GraphQLContext, 'viewer'>) => {
    if (context.viewer) rateLimiter?.takeRefusedOperation(context.viewer.apiKeyId, REFUSAL_COST);
  };
  const admit: OperationLimits['admit'] = (context, analysis) => {
    if (context.budget) {
      context.budget.spentCost += analysis.cost;
      if (context.budget.spentCost > limits.maxCost) {
        throw rejection('QUERY_TOO_COMPLEX', `The operations of this request together exceed the estimated cost of ${limits.maxCost}.`);
      }
    }
    if (context.viewer) rateLimiter?.takeOperation(context.viewer.apiKeyId, analysis.cost);
  };
  return {
    check,
    admit,
    chargeRefusal,
    plugin: {
      async requestDidStart() {
        return {
          // A document that fails to parse or validate did cost its work: it is charged like a refused operation, so
          // a client looping on broken (or over-long) documents runs out of cost and is then refused before parsing.
          async parsingDidStart({ contextValue }) {
            return async (err) => {
              if (err) chargeRefusal(contextValue);
            };
          },
          async validationDidStart({ contextValue }) {
            return async (errs) => {
              if (errs?.length) chargeRefusal(contextValue);
            };
          },
          async didResolveOperation({ document, operation, request, contextValue }) {
            if (!operation) return;
            if (operation.operation === 'subscription') {
              throw rejection('BAD_REQUEST', 'Subscriptions are served over graphql-ws (a WebSocket on /graphql) or GraphQL over SSE (Accept: text/event-stream).');
            }
            chargeParsing(contextValue, document);
            const { analysis, refusal } = check(document, operation, request.variables ?? {}, { admin: contextValue.viewer?.isAdmin ?? false });
            if (refusal) {
              chargeRefusal(contextValue);
              throw refusal;
            }
            admit(contextValue, analysis);
          },
        };
      },
    },
  };
}

const jsonError = (code: ErrorCode, message: string) => ({ errors: [{ message, extensions: { code } }] });

/** A refusal in GraphQL's error shape, noted on the request's record (metrics and the access log count it). */
function refuse(req: IncomingMessage, res: Response, status: number, code: ErrorCode, message: string): void {
  recordRefusal(req, code);
  res.status(status).json(jsonError(code, message));
}

/** Why a request body is refused as a batch (BATCH_TOO_LARGE), or null: a batch holds 1 to `maxBatch` operations. */
export function batchRefusal(body: unknown, maxBatch: number): string | null {
  if (!Array.isArray(body) || (body.length > 0 && body.length <= maxBatch)) return null;
  return `A batch holds 1 to ${maxBatch} operations; this one has ${body.length}.`;
}

/**
 * QUERY_TOO_LONG when a document of the request body (one operation, or any of a batch) is longer than `maxLength`
 * characters, else null: checked before Apollo parses anything.
 */
export function documentLengthRefusal(body: unknown, maxLength: number): GraphQLError | null {
  let longest = 0;
  for (const operation of Array.isArray(body) ? body : [body]) {
    const query = (operation as { query?: unknown } | null)?.query;
    if (typeof query === 'string' && query.length > longest) longest = query.length;
  }
  if (longest <= maxLength) return null;
  return rejection('QUERY_TOO_LONG', `A document may be at most ${maxLength} characters long; this one has ${longest}. Ask for less, or use fragments.`);
}

/** Batched operations are allowed, up to `maxBatch` per request (the fast path applies the same `batchRefusal`). */
export function batchLimit(maxBatch: number): RequestHandler {
  return (req, res, next) => {
    const refusal = batchRefusal(req.body, maxBatch);
    if (refusal) {
      refuse(req, res, 400, 'BATCH_TOO_LARGE', refusal);
      return;
    }
    next();
  };
}

/** Invalid UTF-8 would be decoded into U+FFFD replacement characters and stored as such: refuse it instead. */
export function refuseInvalidUtf8(_req: unknown, _res: unknown, body: Buffer): void {
  if (!isUtf8(body)) throw Object.assign(new Error('The request body is not valid UTF-8.'), { status: 400, type: 'encoding.invalid' });
}

/** Body-parser failures answer in GraphQL's error shape with a code, not as an HTML page. */
export const bodyErrors: ErrorRequestHandler = (err: { type?: string; status?: number }, req, res, next) => {
  if (err?.type === 'entity.too.large') {
    refuse(req, res, 413, 'PAYLOAD_TOO_LARGE', `The request body may be at most ${REQUEST_LIMITS.maxBodyBytes} bytes.`);
  } else if (err?.type === 'encoding.invalid') {
    refuse(req, res, 400, 'BAD_REQUEST', 'The request body is not valid UTF-8.');
  } else if (err?.type === 'entity.parse.failed') {
    refuse(req, res, 400, 'BAD_REQUEST', 'The request body is not valid JSON.');
  } else if (err?.status && err.status >= 400 && err.status < 500) {
    refuse(req, res, err.status, 'BAD_REQUEST', 'The request could not be read.');
  } else {
    next(err);
  }
};
