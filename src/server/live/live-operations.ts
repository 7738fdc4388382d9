import { GraphQLError, getOperationAST, parse, validate, type DocumentNode, type ExecutionArgs, type ExecutionResult, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import type { GraphQLContext, RequestBudget } from '../../context.js';
import type { Database } from '../../db/database.js';
import { unauthenticated, type ErrorCode } from '../../errors.js';
import type { LiveHub } from '../../live/live-hub.js';
import type { ApiKeyAccess } from '../../modules/auth/api-key-access.js';
import type { ApiKeyCache } from '../../modules/auth/api-key-cache.js';
import { authenticate } from '../../modules/auth/authenticate.js';
import type { Viewer } from '../../modules/auth/viewer.js';
import { createLoaders } from '../../modules/loaders.js';
import { REQUEST_LIMITS, documentLengthRefusal, type OperationLimits } from '../limits.js';
import type { RateLimiter } from '../rate-limit.js';
import type { PersistedDocuments } from '../persisted-documents.js';

/**
 * What both live transports (websocket.ts, sse.ts) do with a connection and its operations, with the same rules as
 * POST /graphql: the same API keys and address limits, the same document limits, the same cost model and rate limits
 * (a subscription is charged as an operation when it starts, and each event it delivers is charged its cost), the same
 * error masking.
 */
export type LiveOperationsOptions = {
  schema: GraphQLSchema;
  db: Database;
  log: Logger;
  hub: LiveHub;
  apiKeys: ApiKeyAccess;
  apiKeyCache: ApiKeyCache;
  rateLimiter: RateLimiter | null;
  limits: OperationLimits;
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  /** Each event's execution deadline. */
  requestTimeoutMs: number;
  persistedDocuments?: PersistedDocuments;
};

const refusal = (code: ErrorCode, message: string) => new GraphQLError(message, { extensions: { code } });

/** A subscription's context: one per subscription, renewed (loaders, deadline, cost) for each event it delivers. */
class LiveContext implements GraphQLContext {
  loaders: GraphQLContext['loaders'];
  budget: RequestBudget;
  constructor(
    readonly viewer: Viewer,
    readonly db: Database,
    readonly log: Logger,
    readonly apiKeyCache: ApiKeyCache,
    readonly live: LiveHub,
    private readonly timeoutMs: number,
    private readonly chargeEvent: () => void,
    readonly onSlowConsumer: () => void,
  ) {
    this.loaders = createLoaders(db);
    this.budget = this.freshBudget();
  }
  renewForEvent(): void {
    this.loaders = createLoaders(this.db);
    this.budget = this.freshBudget();
    this.chargeEvent();
  }
  private freshBudget(): RequestBudget {
    return { spentCost: 0, deadline: Date.now() + this.timeoutMs, chargeWork: () => {} };
  }
}

export type LiveRequest = { query?: unknown; variables?: unknown; operationName?: unknown };

export function createLiveOperations(options: LiveOperationsOptions) {
  const { schema, limits, rateLimiter } = options;
  const documents = new Map<string, DocumentNode>();

  /** Parsed and validated documents, a few hundred kept (dashboards subscribe with the same few). */
  const documentOf = (query: string, viewer: Viewer): DocumentNode | readonly GraphQLError[] => {
    const known = documents.get(query);
    if (known) return known;
    let document: DocumentNode;
    try {
      document = parse(query, { maxTokens: REQUEST_LIMITS.maxTokens });
    } catch (error) {
      limits.chargeRefusal({ viewer });
      return [refusal('GRAPHQL_PARSE_FAILED', (error as Error).message)];
    }
    const errors = validate(schema, document);
    if (errors.length) {
      limits.chargeRefusal({ viewer });
      return errors.map((e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' satisfies ErrorCode } }));
    }
    rateLimiter?.chargeCost(viewer.apiKeyId, Math.ceil(query.length * 0.5));
    if (documents.size >= 500) documents.delete(documents.keys().next().value!);
    documents.set(query, document);
    return document;
  };

  return {
    /** The viewer of a live connection's `Authorization` value; throws UNAUTHENTICATED (or RATE_LIMITED for the address). */
    async authenticate(authorization: string | undefined, address: string): Promise<Viewer> {
      try {
        if (!authorization) {
          rateLimiter?.checkAddress(address);
          throw unauthenticated();
        }
        const viewer = await authenticate(options.apiKeys, authorization, options.apiKeyCache, rateLimiter ? () => rateLimiter.checkAddress(address) : undefined);
        if (!viewer) throw unauthenticated();
        return viewer;
      } catch (error) {
        rateLimiter?.authenticationFailed(address);
        throw error;
      }
    },

    /** A subscription operation, checked and charged, ready for graphql-js `subscribe`; or why it is refused. */
    prepare(viewer: Viewer, request: LiveRequest, onSlowConsumer: () => void): ExecutionArgs | readonly GraphQLError[] {
      try {
        rateLimiter?.checkKey(viewer.apiKeyId);
        const notPersisted = options.persistedDocuments?.resolve(request);
        if (notPersisted) return [notPersisted];
        if (typeof request.query !== 'string') return [refusal('BAD_REQUEST', 'The operation needs a `query` string.')];
        const tooLong = documentLengthRefusal(request, REQUEST_LIMITS.maxDocumentLength);
        if (tooLong) {
          limits.chargeRefusal({ viewer });
          return [tooLong];
        }
        const document = documentOf(request.query, viewer);
        if (!('kind' in document)) return document;
        const operationName = typeof request.operationName === 'string' ? request.operationName : undefined;
        const operation = getOperationAST(document, operationName);
        if (!operation) return [refusal('OPERATION_RESOLUTION_FAILURE', 'The document has no operation of that name, or several and none is named.')];
        if (operation.operation !== 'subscription') {
          return [refusal('BAD_REQUEST', 'Only subscriptions are served on live connections; send queries and mutations to POST /graphql.')];
        }
        const variables = typeof request.variables === 'object' && request.variables !== null && !Array.isArray(request.variables) ? (request.variables as Record<string, unknown>) : {};
        const { analysis, refusal: tooMuch } = limits.check(document, operation, variables, { admin: viewer.isAdmin });
        if (tooMuch) {
          limits.chargeRefusal({ viewer });
          return [tooMuch];
        }
        limits.admit({ viewer }, analysis);
        const contextValue = new LiveContext(
          viewer,
          options.db,
          options.log,
          options.apiKeyCache,
          options.hub,
          options.requestTimeoutMs,
          () => rateLimiter?.chargeCost(viewer.apiKeyId, analysis.cost),
          onSlowConsumer,
        );
        return { schema, document, operationName, variableValues: variables, contextValue };
      } catch (error) {
        if (error instanceof GraphQLError) return [error];
        throw error;
      }
    },

    /** Errors as the client may see them: coded ones as they are, anything else masked (and logged). */
    formatErrors(errors: readonly GraphQLError[]): GraphQLFormattedError[] {
      return errors.map((error) => options.formatError(error.toJSON(), error));
    },

    /** The same, as GraphQLErrors (graphql-ws takes refusals only as such). */
    maskedErrors(errors: readonly GraphQLError[]): GraphQLError[] {
      return this.formatErrors(errors).map((f) => new GraphQLError(f.message, { extensions: f.extensions }));
    },

    format(result: ExecutionResult): ExecutionResult {
      if (!result.errors?.length) return result;
      return { ...result, errors: this.formatErrors(result.errors) as unknown as GraphQLError[] };
    },
  };
}

export type LiveOperations = ReturnType<typeof createLiveOperations>;

/** The code of an error the client is sent, if any. */
export const codeOf = (error: { extensions?: Record<string, unknown> } | undefined): string | undefined =>
  typeof error?.extensions?.code === 'string' ? error.extensions.code : undefined;
