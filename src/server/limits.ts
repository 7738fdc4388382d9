import type { ApolloServerPlugin } from '@apollo/server';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { isUtf8 } from 'node:buffer';
import {
  GraphQLError,
  getNamedType,
  isObjectType,
  isInterfaceType,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import { DEFAULT_PAGE_SIZE } from '../modules/shared/pagination.js';

export const REQUEST_LIMITS = {
  /** Nesting of selection sets, fragments included. */
  maxDepth: 12,
  /** Estimated fields resolved: each connection multiplies what is below it by its page size. */
  maxCost: 250_000,
  maxBatch: 10,
  maxBodyBytes: 1_000_000,
};

const rejection = (code: string, message: string, status = 400) => new GraphQLError(message, { extensions: { code, http: { status } } });

function argumentNumber(value: ValueNode | undefined, variables: Record<string, unknown>): number | null {
  const raw = !value ? null : value.kind === Kind.INT ? Number(value.value) : value.kind === Kind.VARIABLE ? variables[value.name.value] : null;
  // Out-of-range values are left to GraphQL's own argument checks, which answer BAD_USER_INPUT.
  return typeof raw === 'number' && Number.isInteger(raw) && raw >= 0 && raw <= 2_147_483_647 ? raw : null;
}

type Analysis = { depth: number; cost: number };

/**
 * Depth and estimated cost of an operation: 1 per field, times the page size under connections (`first`/`last`,
 * default 20). Each fragment is analysed once (memoized), so fragments that spread each other many times cannot
 * make the analysis itself expensive; cost stops being added once it is over the limit. Introspection fields
 * (GraphiQL's schema query nests `ofType` deeply) are governed by the introspection switch instead.
 */
export function analyzeOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
  maxCost: number,
): Analysis {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const memo = new Map<string, Analysis>();
  const inProgress = new Set<string>();

  const analyzeSet = (selectionSet: SelectionSetNode, parentType: GraphQLCompositeType | undefined): Analysis => {
    let depth = 0;
    let cost = 0;
    for (const selection of selectionSet.selections) {
      if (cost > maxCost) break;
      let child: Analysis;
      if (selection.kind === Kind.FIELD) {
        cost += 1;
        if (!selection.selectionSet || selection.name.value.startsWith('__')) continue;
        const fields = parentType && (isObjectType(parentType) || isInterfaceType(parentType)) ? parentType.getFields() : {};
        const field = fields[selection.name.value];
        const childType = field ? (getNamedType(field.type) as GraphQLCompositeType) : undefined;
        const inner = analyzeSet(selection.selectionSet, childType);
        const pageArgument = selection.arguments?.find((a) => a.name.value === 'first' || a.name.value === 'last');
        const multiplier = childType?.name.endsWith('Connection') ? Math.max(1, argumentNumber(pageArgument?.value, variables) ?? DEFAULT_PAGE_SIZE) : 1;
        child = { depth: inner.depth + 1, cost: multiplier * inner.cost };
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? (schema.getType(selection.typeCondition.name.value) as GraphQLCompositeType | undefined) : parentType;
        child = analyzeSet(selection.selectionSet, type);
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (!fragment || inProgress.has(name)) continue; // cycles are reported by GraphQL's own validation
        let cached = memo.get(name);
        if (!cached) {
          inProgress.add(name);
          cached = analyzeSet(fragment.selectionSet, schema.getType(fragment.typeCondition.name.value) as GraphQLCompositeType | undefined);
          inProgress.delete(name);
          memo.set(name, cached);
        }
        child = cached;
      }
      depth = Math.max(depth, child.depth);
      cost += child.cost;
    }
    return { depth, cost };
  };

  return analyzeSet(operation.selectionSet, schema.getRootType(operation.operation) ?? undefined);
}

export type OperationLimits = {
  /** Why the operation may not run with these variables, or null when it may. */
  refusal(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>): GraphQLError | null;
  /** The same check in Apollo's pipeline. */
  plugin: ApolloServerPlugin;
};

/**
 * Refuses operations nested deeper than `maxDepth` or estimated to cost more than `maxCost`, once variables
 * are known and before anything executes. (A plugin rather than a validation rule: Apollo would replace a
 * validation rule's error code with GRAPHQL_VALIDATION_FAILED.) `refusal` is the check itself, for the hot-operation
 * path that answers without Apollo's pipeline.
 */
export function operationLimits(limits: { maxDepth: number; maxCost: number }): OperationLimits {
  // An operation without variables always analyses the same: once per parsed document (Apollo keeps parsed
  // documents, so a hot query is analysed once, not on every request).
  const withoutVariables = new WeakMap<OperationDefinitionNode, Analysis>();
  const analyze = (schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>) => {
    if (operation.variableDefinitions?.length) return analyzeOperation(schema, document, operation, variables, limits.maxCost);
    let analysis = withoutVariables.get(operation);
    if (!analysis) withoutVariables.set(operation, (analysis = analyzeOperation(schema, document, operation, {}, limits.maxCost)));
    return analysis;
  };
  const refusal: OperationLimits['refusal'] = (schema, document, operation, variables) => {
    const { depth, cost } = analyze(schema, document, operation, variables);
    if (depth > limits.maxDepth) {
      return rejection('QUERY_TOO_DEEP', `The operation nests ${depth} levels deep; at most ${limits.maxDepth} are allowed.`);
    }
    if (cost > limits.maxCost) {
      return rejection('QUERY_TOO_COMPLEX', `The operation's estimated cost exceeds ${limits.maxCost}. Ask for smaller pages or fewer nested lists.`);
    }
    return null;
  };
  return {
    refusal,
    plugin: {
      async requestDidStart() {
        return {
          async didResolveOperation({ document, operation, request, schema }) {
            if (!operation) return;
            const refused = refusal(schema, document, operation, request.variables ?? {});
            if (refused) throw refused;
          },
        };
      },
    },
  };
}

const jsonError = (code: string, message: string) => ({ errors: [{ message, extensions: { code } }] });

/** Batched operations are allowed, up to `maxBatch` per request. */
export function batchLimit(maxBatch: number): RequestHandler {
  return (req, res, next) => {
    if (Array.isArray(req.body) && (req.body.length === 0 || req.body.length > maxBatch)) {
      res.status(400).json(jsonError('BATCH_TOO_LARGE', `A batch holds 1 to ${maxBatch} operations; this one has ${req.body.length}.`));
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
export const bodyErrors: ErrorRequestHandler = (err: { type?: string; status?: number }, _req, res, next) => {
  if (err?.type === 'entity.too.large') {
    res.status(413).json(jsonError('PAYLOAD_TOO_LARGE', `The request body may be at most ${REQUEST_LIMITS.maxBodyBytes} bytes.`));
  } else if (err?.type === 'encoding.invalid') {
    res.status(400).json(jsonError('BAD_REQUEST', 'The request body is not valid UTF-8.'));
  } else if (err?.type === 'entity.parse.failed') {
    res.status(400).json(jsonError('BAD_REQUEST', 'The request body is not valid JSON.'));
  } else if (err?.status && err.status >= 400 && err.status < 500) {
    res.status(err.status).json(jsonError('BAD_REQUEST', 'The request could not be read.'));
  } else {
    next(err);
  }
};
