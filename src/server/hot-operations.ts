import type { DocumentNode, ExecutionResult, OperationDefinitionNode } from 'graphql';
import type { GraphQLContext } from '../context.js';
import type { CostCaller } from './cost/field-costs.js';
import type { Analysis } from './cost/operation-cost.js';
import type { Admission } from './limits.js';
import { isJsonObject } from '../modules/shared/input.js';

/**
 * Hot operations: a request whose query text and operation name are those of an operation already compiled
 * (compiled-execution.ts) is executed without Apollo's request pipeline. For a one-statement query that pipeline was
 * a sixth of the server's CPU: a SHA-256 of the query text to find the parsed document, content negotiation twice
 * (Negotiator), the plugin hooks, a request context of a dozen objects and a copy of the GraphQL context.
 *
 * What the pipeline does for such a request is done here as well, or the request is left to it:
 * - the body is read by Apollo's rules (a string `query`, `variables` an object or null, `operationName` a string
 *   or null); anything else, `extensions` (persisted queries) and batches go to Apollo;
 * - the document was parsed and validated by Apollo when it was compiled, and the operation was resolved from the
 *   same text and name, so neither can turn out differently;
 * - the operation limits (limits.ts) are checked with this request's variables; a refused operation goes to Apollo,
 *   which refuses it; an admitted one is charged to the client's rate limits here, as Apollo's plugin does;
 * - the request's deadline applies as on Apollo's path (compiled-execution.ts);
 * - only an answer without errors is written here (200, `application/json; charset=utf-8`, Apollo's JSON); a result
 *   with errors, or a failure, is handed to Apollo's pipeline as if it had executed it (`precomputed`), so that
 *   errors are formatted, masked, logged and given their status codes by Apollo alone — and nothing runs twice;
 * - CSRF prevention has nothing to refuse: the fast path takes only `application/json` bodies, which Apollo's check
 *   lets through;
 * - it is open only while Apollo serves: `close()` before Apollo stops.
 * Plugins with per-request hooks other than the operation limits must not be installed while this is open (app.ts
 * installs none; Apollo's own reporting plugins are disabled explicitly there).
 */
export type HotOperation = {
  document: DocumentNode;
  operation: OperationDefinitionNode;
  execute(context: GraphQLContext, variables: Record<string, unknown>): Promise<ExecutionResult>;
};

export type HotRequest = { operation: HotOperation; variables: Record<string, unknown>; analysis: Analysis };

/** The outcome of a hot execution handed to Apollo's pipeline, which reports it instead of executing again. */
export type Precomputed = { result: ExecutionResult } | { error: unknown };

const PRECOMPUTED = Symbol('agentgraph.precomputed');

/**
 * The context Apollo's pipeline is given for a request already executed. An own enumerable property: Apollo hands the
 * executor a copy of the context (`Object.assign`), which carries it.
 */
export function withPrecomputed(context: GraphQLContext, outcome: Precomputed): GraphQLContext {
  (context as GraphQLContext & { [PRECOMPUTED]?: Precomputed })[PRECOMPUTED] = outcome;
  return context;
}

export function precomputedOf(context: unknown): Precomputed | undefined {
  return (context as { [PRECOMPUTED]?: Precomputed } | null)?.[PRECOMPUTED];
}

/** Accept headers for which Apollo answers `application/json; charset=utf-8` (others are Apollo's to negotiate). */
const JSON_ACCEPTS = new Set([undefined, '*/*', 'application/json', 'application/json, */*', 'application/json, text/plain, */*']);

export type HotOperationsOptions = {
  /** Operations kept at most; the oldest is forgotten first. */
  maxEntries: number;
  /** Query texts longer than this are not kept (they are keys held in memory). */
  maxQueryLength: number;
  /** The operation limits' check (limits.ts) with the request's variables. */
  check(document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>, caller?: CostCaller): Admission;
};

export function createHotOperations(options: HotOperationsOptions) {
  // Keyed by operation name, then query text: one lookup of the text (hashed by V8) per request.
  const byName = new Map<string, Map<string, HotOperation>>();
  let open = true;
  let requests = 0;
  // Names and texts in the order they were kept: the oldest is forgotten first.
  const order: Array<[string, string]> = [];

  return {
    /** Called by the executor for an operation it ran compiled: from now on its requests are hot. */
    remember(query: string | undefined, operationName: string | null | undefined, operation: HotOperation): void {
      if (!open || query === undefined || query.length > options.maxQueryLength) return;
      const name = operationName ?? '';
      let texts = byName.get(name);
      if (!texts) byName.set(name, (texts = new Map()));
      if (texts.has(query)) return;
      texts.set(query, operation);
      order.push([name, query]);
      if (order.length <= options.maxEntries) return;
      const [oldName, oldQuery] = order.shift()!;
      byName.get(oldName)?.delete(oldQuery);
    },

    /** The hot operation a parsed JSON body asks for, with its variables; null when Apollo's pipeline answers it. */
    match(body: unknown, accept: string | undefined): HotRequest | null {
      if (!open || !isJsonObject(body) || !JSON_ACCEPTS.has(accept)) return null;
      const { query, operationName, variables, extensions } = body;
      if (typeof query !== 'string' || (extensions !== undefined && extensions !== null)) return null;
      // An empty name names no operation: Apollo refuses it (OPERATION_RESOLUTION_FAILURE), unlike an absent one.
      if (operationName !== undefined && operationName !== null && (typeof operationName !== 'string' || operationName === '')) return null;
      if (variables !== undefined && variables !== null && !isJsonObject(variables)) return null;
      const operation = byName.get(operationName ?? '')?.get(query);
      if (!operation) return null;
      const vars = (variables ?? {}) as Record<string, unknown>;
      const { analysis, refusal } = options.check(operation.document, operation.operation, vars);
      // A cost that depends on the caller is judged by Apollo's pipeline, once the request is authenticated.
      if (refusal || analysis.byCaller) return null;
      requests++;
      return { operation, variables: vars, analysis };
    },

    /** Operations kept, and requests executed on this path so far (answered here or, with errors, by Apollo). */
    stats: () => ({ operations: order.length, requests }),

    /** From now on every request goes through Apollo (called before Apollo stops). */
    close(): void {
      open = false;
      byName.clear();
      order.length = 0;
    },
  };
}

export type HotOperations = ReturnType<typeof createHotOperations>;
