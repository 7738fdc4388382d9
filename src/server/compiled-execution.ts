import type { GatewayExecutor, GatewayInterface } from '@apollo/server-gateway-interface';
import {
  execute,
  getVariableValues,
  GraphQLError,
  isEnumType,
  printSchema,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import type { Logger } from 'pino';
import type { GraphQLContext } from '../context.js';
import { precomputedOf, type HotOperation } from './hot-operations.js';
import { withinDeadline } from './limits.js';

/**
 * Execution of hot operations through graphql-jit: a document that has been executed `compileAfterUses` times is
 * compiled once into a JavaScript function that resolves its fields without graphql-js's per-field work
 * (argument coercion for every field, a resolve-info object, a promise check and a completion dispatch per value),
 * which was a fifth of the server's CPU on list-heavy queries. Documents seen fewer times run on graphql-js as
 * before, so a stream of one-off documents never pays for compilation.
 *
 * Apollo Server keeps parsed, validated documents in its document store, so the same query text arrives as the same
 * DocumentNode object: the compiled forms hang off it in a WeakMap and leave with it when Apollo evicts it.
 *
 * Apollo's extension point for replacing execution is the gateway interface: a "gateway" that serves one local
 * schema and executes requests itself. Parsing, validation, plugins, error formatting and the HTTP layer stay
 * Apollo's.
 */
export type CompiledExecutionOptions = {
  /** Executions of a document on graphql-js before it is compiled; 0 compiles on first use, Infinity never. */
  compileAfterUses: number;
  /** Query texts longer than this run on graphql-js, never compiled (compiling a long one-off blocks the event loop). */
  maxCompiledQueryLength?: number;
  log: Logger;
  /** Told of every request executed compiled, with its query text and operation name (hot-operations.ts). */
  onCompiledExecution?(query: string | undefined, operationName: string | null | undefined, operation: HotOperation): void;
};

type DocumentPlans = { uses: number; byOperation: Map<string, HotOperation | 'not-compilable'> };

/**
 * graphql-jit reports a resolver's error without `extensions` when the thrown error had none (a driver error, a bug):
 * Apollo's formatting then fails on it and answers a bare INTERNAL_SERVER_ERROR without a path or a log line. The same
 * error as graphql-js makes it, so the error formatter (errors.ts) masks, codes and logs it as on every other path.
 */
function asGraphQLJsError(error: GraphQLError): GraphQLError {
  if (error.extensions) return error;
  const original = error.originalError ?? undefined;
  const normalized = new GraphQLError(error.message, { path: error.path, originalError: original });
  (normalized as { locations?: GraphQLError['locations'] }).locations = error.locations;
  return normalized;
}

function withGraphQLJsErrors(result: ExecutionResult): ExecutionResult {
  if (!result.errors?.some((error) => !error.extensions)) return result;
  return { ...result, errors: result.errors.map(asGraphQLJsError) };
}

/**
 * Coercing an already coerced variable again must give the same value. It does for the built-in scalars, for this
 * schema's custom scalars (their parseValue accepts what it returns) and for enums whose values are their names;
 * an enum mapped to other internal values would be coerced twice wrongly, so it stops the server at start.
 */
function assertRecoercionIsIdentity(schema: GraphQLSchema): void {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isEnumType(type) || type.name.startsWith('__')) continue;
    const mapped = type.getValues().find((value) => value.value !== value.name);
    if (mapped) throw new Error(`Enum ${type.name}.${mapped.name} has an internal value: compiled execution would coerce its variables twice`);
  }
}

/**
 * What compiling a document costs its key, in cost units (about a microsecond of the event loop each, as the rate
 * limits count): ~20 µs a character, so a 5,000-character document (MAX_COMPILED_QUERY_LENGTH) costs 100,000.
 */
const COMPILE_COST_PER_CHARACTER = 20;

export function compiledExecutionGateway(schema: GraphQLSchema, options: CompiledExecutionOptions): GatewayInterface {
  assertRecoercionIsIdentity(schema);
  const plans = new WeakMap<DocumentNode, DocumentPlans>();

  const compiledFor = (
    document: DocumentNode,
    operation: OperationDefinitionNode,
    operationName: string | undefined,
    budget: GraphQLContext['budget'],
  ): HotOperation | null => {
    let entry = plans.get(document);
    if (!entry) plans.set(document, (entry = { uses: 0, byOperation: new Map() }));
    const key = operationName ?? '';
    const known = entry.byOperation.get(key);
    if (known) return known === 'not-compilable' ? null : known;
    if (entry.uses++ < options.compileAfterUses) return null;
    if (options.maxCompiledQueryLength !== undefined && (document.loc?.end ?? 0) > options.maxCompiledQueryLength) {
      entry.byOperation.set(key, 'not-compilable');
      return null;
    }
    // Compiling is work for this request's key like parsing, and larger: charged by the document's length.
    budget?.chargeWork(Math.ceil((document.loc?.end ?? 0) * COMPILE_COST_PER_CHARACTER));
    const compiled = compileQuery(schema, document, operation.name?.value, { disablingCapturingStackErrors: true });
    if (isCompiledQuery(compiled)) {
      options.log.debug({ operationName, uses: entry.uses }, 'operation compiled');
      const plan: HotOperation = { document, operation, execute: (context, variables) => withinDeadline(executeCompiled(compiled, operation, context, variables), context.budget) };
      entry.byOperation.set(key, plan);
      return plan;
    }
    // Whatever graphql-jit cannot compile, graphql-js still executes (and reports) as it always did.
    options.log.warn({ operationName, errors: compiled.errors?.map((e) => e.message) }, 'operation not compilable; executing on graphql-js');
    entry.byOperation.set(key, 'not-compilable');
    return null;
  };

  const executeCompiled = async (compiled: CompiledQuery, operation: OperationDefinitionNode, context: GraphQLContext, variables: Record<string, unknown>) => {
    const result = withGraphQLJsErrors((await compiled.query(undefined, context, variables)) as ExecutionResult);
    if ('data' in result || !result.errors) return result;
    // graphql-jit refused the variables (a result without data). graphql-js decides: its errors name the variable
    // definition, which Apollo answers with 400 and BAD_USER_INPUT as for interpreted operations; and where it
    // accepts them (graphql-jit 0.8 refuses `{direction: DESC}` for an input whose other, non-null field has a
    // default), the compiled query runs with graphql-js's coerced values, which coerce to themselves again
    // (assertRecoercionIsIdentity).
    const coercion = getVariableValues(schema, operation.variableDefinitions ?? [], variables, { maxErrors: 50 });
    if (coercion.errors) return { errors: coercion.errors };
    return withGraphQLJsErrors((await compiled.query(undefined, context, coercion.coerced)) as ExecutionResult);
  };

  const executor: GatewayExecutor = async (requestContext) => {
    const { document, operation, context, request } = requestContext;
    // Executed already on the hot path, whose errors Apollo reports: not again.
    const precomputed = precomputedOf(context);
    if (precomputed) {
      if ('error' in precomputed) throw precomputed.error;
      return precomputed.result;
    }
    const variables = request.variables ?? {};
    const plan = document && operation ? compiledFor(document, operation, request.operationName ?? undefined, (context as GraphQLContext).budget) : null;
    if (!plan || !operation) {
      // With the operation name the client sent: graphql-js reports an unknown or missing one as Apollo expects.
      const executed = execute({ schema, document: document!, contextValue: context, variableValues: variables, operationName: request.operationName });
      return withinDeadline(Promise.resolve(executed), (context as GraphQLContext).budget);
    }
    options.onCompiledExecution?.(request.query, request.operationName, plan);
    return plan.execute(context as GraphQLContext, variables);
  };

  const sdl = printSchema(schema);
  return {
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: sdl });
      return () => {};
    },
    load: async () => ({ executor }),
    stop: async () => {},
  };
}
