import type { ApolloServerPlugin } from '@apollo/server';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import {
  GraphQLError,
  getNamedType,
  isObjectType,
  isInterfaceType,
  Kind,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValidationRule,
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

/** Rejects operations nested deeper than `maxDepth` before anything runs. */
export function depthLimitRule(maxDepth: number): ValidationRule {
  return (context) => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const definition of context.getDocument().definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    }
    const depthOf = (selectionSet: SelectionSetNode, visiting: Set<string>): number => {
      let deepest = 0;
      for (const selection of selectionSet.selections) {
        if (selection.kind === Kind.FIELD) {
          // Introspection (GraphiQL's schema query nests `ofType` deeply) is governed by the introspection switch.
          if (selection.name.value.startsWith('__')) continue;
          if (selection.selectionSet) deepest = Math.max(deepest, 1 + depthOf(selection.selectionSet, visiting));
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          deepest = Math.max(deepest, depthOf(selection.selectionSet, visiting));
        } else {
          const fragment = fragments.get(selection.name.value);
          if (fragment && !visiting.has(fragment.name.value)) {
            deepest = Math.max(deepest, depthOf(fragment.selectionSet, new Set([...visiting, fragment.name.value])));
          }
        }
        if (deepest > maxDepth) return deepest;
      }
      return deepest;
    };
    return {
      OperationDefinition(operation) {
        const depth = depthOf(operation.selectionSet, new Set());
        if (depth > maxDepth) {
          context.reportError(
            new GraphQLError(`The operation nests ${depth} levels deep; at most ${maxDepth} are allowed.`, {
              nodes: [operation],
              extensions: { code: 'QUERY_TOO_DEEP' },
            }),
          );
        }
      },
    };
  };
}

function argumentNumber(value: ValueNode | undefined, variables: Record<string, unknown>): number | null {
  if (!value) return null;
  if (value.kind === Kind.INT) return Number(value.value);
  if (value.kind === Kind.VARIABLE) {
    const v = variables[value.name.value];
    return typeof v === 'number' ? v : null;
  }
  return null;
}

/** The cost of a selection: 1 per field, times the page size under connections (`first`/`last`, default 20). */
export function operationCost(
  schema: GraphQLSchema,
  selectionSet: SelectionSetNode,
  parentType: GraphQLCompositeType,
  fragments: Record<string, FragmentDefinitionNode>,
  variables: Record<string, unknown>,
  visiting: Set<string> = new Set(),
): number {
  let cost = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      cost += 1;
      if (selection.name.value.startsWith('__')) continue;
      if (!selection.selectionSet) continue;
      const fields = isObjectType(parentType) || isInterfaceType(parentType) ? parentType.getFields() : {};
      const field = fields[selection.name.value];
      if (!field) continue;
      const childType = getNamedType(field.type) as GraphQLCompositeType;
      const pageArgument = selection.arguments?.find((a) => a.name.value === 'first' || a.name.value === 'last');
      const multiplier = childType.name.endsWith('Connection') ? Math.max(1, argumentNumber(pageArgument?.value, variables) ?? DEFAULT_PAGE_SIZE) : 1;
      cost += multiplier * operationCost(schema, selection.selectionSet, childType, fragments, variables, visiting);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      const type = selection.typeCondition ? (schema.getType(selection.typeCondition.name.value) as GraphQLCompositeType) : parentType;
      cost += operationCost(schema, selection.selectionSet, type ?? parentType, fragments, variables, visiting);
    } else {
      const fragment = fragments[selection.name.value];
      if (!fragment || visiting.has(fragment.name.value)) continue;
      const type = (schema.getType(fragment.typeCondition.name.value) as GraphQLCompositeType) ?? parentType;
      cost += operationCost(schema, fragment.selectionSet, type, fragments, variables, new Set([...visiting, fragment.name.value]));
    }
  }
  return cost;
}

/** Refuses operations whose estimated cost exceeds the limit, once variables are known and before execution. */
export function costLimitPlugin(maxCost: number): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, request, schema }) {
          if (!operation) return;
          const fragments: Record<string, FragmentDefinitionNode> = {};
          for (const definition of document.definitions) {
            if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
          }
          const rootType = schema.getRootType(operation.operation);
          if (!rootType) return;
          const cost = operationCost(schema, operation.selectionSet, rootType, fragments, request.variables ?? {});
          if (cost > maxCost) {
            throw rejection('QUERY_TOO_COMPLEX', `The operation's estimated cost is ${cost}; at most ${maxCost} is allowed. Ask for smaller pages.`);
          }
        },
      };
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

/** Body-parser failures answer in GraphQL's error shape with a code, not as an HTML page. */
export const bodyErrors: ErrorRequestHandler = (err: { type?: string; status?: number }, _req, res, next) => {
  if (err?.type === 'entity.too.large') {
    res.status(413).json(jsonError('PAYLOAD_TOO_LARGE', `The request body may be at most ${REQUEST_LIMITS.maxBodyBytes} bytes.`));
  } else if (err?.type === 'entity.parse.failed') {
    res.status(400).json(jsonError('BAD_REQUEST', 'The request body is not valid JSON.'));
  } else if (err?.status && err.status >= 400 && err.status < 500) {
    res.status(err.status).json(jsonError('BAD_REQUEST', 'The request could not be read.'));
  } else {
    next(err);
  }
};
