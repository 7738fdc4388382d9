import {
  getNamedType,
  isInterfaceType,
  isObjectType,
  Kind,
  valueFromASTUntyped,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
  visit,
} from 'graphql';
import { DEFAULT_PAGE_SIZE, pageBound, wholeNumber } from '../../modules/shared/pagination.js';
import { FIELD_COSTS, JSON_VALUE_WEIGHT, TOTAL_COUNT_WEIGHT, introspectionCosts, isConnectionType, type Arguments, type CostCaller, type FieldCost } from './field-costs.js';

/**
 * The cost of an operation: an upper bound of the fields it resolves, objects times fields, plus the declared weight of
 * fields that scan (field-costs.ts). Every list multiplies what is below it by its bound: a connection by its page
 * (`first`/`last`, default 20), a plain list by its declared maximum or its `limit` argument. Variables take their
 * definitions' defaults when omitted, arguments their schema defaults, so what runs is what was priced. Aliases are
 * fields like any other; introspection is priced from the schema's own sizes. Depth counts nesting, fragments included,
 * introspection excluded (GraphiQL's schema query nests `ofType` a dozen levels).
 *
 * The analysis is linear in the document: each fragment is analysed once (memoized) per count of objects, so
 * fragments spreading each other cannot make it expensive, and cost stops being added once over the limit.
 */
/** `byCaller`: the cost holds for this caller only (a field's weight depends on who asks; see FieldCost.byCaller). */
export type Analysis = { depth: number; cost: number; byCaller?: boolean };

/** A list whose total is pooled over the objects of its parent list (Node.inputLinks over Graph.nodes). */
type Pooled = { via: string; perParent: number; total: number; innerCost: number };
type SetAnalysis = { depth: number; cost: number; pooled: Pooled[] };

export type CostModel = {
  analyze(document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>, maxCost: number, caller?: CostCaller): Analysis;
  /**
   * The variables the cost can depend on: those inside page sizes, `limit`s and the arguments of priced fields (and
   * of fields whose lists are sized by them). An operation's analysis holds for any values of the others.
   */
  costVariables(document: DocumentNode, operation: OperationDefinitionNode): string[];
};

function withDefaults(operation: OperationDefinitionNode, variables: Record<string, unknown>): Record<string, unknown> {
  const definitions = operation.variableDefinitions;
  if (!definitions?.length) return variables;
  let values = variables;
  for (const definition of definitions) {
    const name = definition.variable.name.value;
    if (definition.defaultValue && (values[name] === undefined || !(name in values))) {
      if (values === variables) values = { ...variables };
      values[name] = valueFromASTUntyped(definition.defaultValue);
    }
  }
  return values;
}

function argumentsOf(node: FieldNode, field: GraphQLField<unknown, unknown> | undefined, variables: Record<string, unknown>): Arguments {
  const args: Arguments = {};
  for (const definition of field?.args ?? []) if (definition.defaultValue !== undefined) args[definition.name] = definition.defaultValue;
  for (const argument of node.arguments ?? []) {
    const value = valueFromASTUntyped(argument.value, variables);
    if (value !== undefined && value !== null) args[argument.name.value] = value;
  }
  return args;
}

function listSize(cost: FieldCost, args: Arguments, parentArgs: Arguments): number {
  const bound = cost.list!;
  let size = bound.max;
  const limit = bound.limitArgument ? wholeNumber(args[bound.limitArgument]) : null;
  if (limit !== null) size = Math.min(size, limit);
  const computed = bound.sizeOf?.(args, parentArgs);
  if (computed !== null && computed !== undefined) size = Math.min(size, computed);
  return Math.max(0, size);
}

const weightOf = (cost: FieldCost | undefined, args: Arguments, parentArgs: Arguments, caller: CostCaller) =>
  typeof cost?.weight === 'function' ? cost.weight(args, parentArgs, caller) : (cost?.weight ?? 0);

export function createCostModel(schema: GraphQLSchema): CostModel {
  const costs: Record<string, FieldCost> = { ...FIELD_COSTS, ...introspectionCosts(schema) };
  // Sizes computed from the parent field's arguments (a time series' buckets) make a fragment's cost depend on them.
  const typesSizedByParent = new Set(Object.entries(costs).filter(([, c]) => c.list?.sizeOf).map(([key]) => key.split('.')[0]));
  const jsonScalars = new Set(['JSON', 'JSONObject']);
  const schemaType = schema.getType('__Schema') as GraphQLCompositeType;
  const typeType = schema.getType('__Type') as GraphQLCompositeType;

  const analyze: CostModel['analyze'] = (document, operation, rawVariables, maxCost, caller = { admin: false }) => {
    const variables = withDefaults(operation, rawVariables);
    let byCaller = false;
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    // Keyed by fragment and the page its connection gives (the only context a selection's cost depends on).
    const memo = new Map<string, SetAnalysis>();
    const inProgress = new Set<string>();

    /** `page`: the page size when this set is a connection's; `parentArgs`: the arguments of the field that returned it. */
    const analyzeSet = (selectionSet: SelectionSetNode, parentType: GraphQLCompositeType | undefined, page: number, parentArgs: Arguments): SetAnalysis => {
      let depth = 0;
      let cost = 0;
      const pooled: Pooled[] = [];
      const add = (child: SetAnalysis) => {
        depth = Math.max(depth, child.depth);
        cost += child.cost;
        pooled.push(...child.pooled);
      };
      for (const selection of selectionSet.selections) {
        if (cost > maxCost) break;
        if (selection.kind === Kind.FIELD) {
          const name = selection.name.value;
          const fields = parentType && (isObjectType(parentType) || isInterfaceType(parentType)) ? parentType.getFields() : undefined;
          const field = fields?.[name];
          const key = `${parentType?.name ?? ''}.${name}`;
          const declared = costs[key];
          const args = argumentsOf(selection, field, variables);
          const isCount = name === 'totalCount' && parentType !== undefined && isConnectionType(parentType.name);
          if (declared?.byCaller) byCaller = true;
          cost += 1 + weightOf(declared, args, parentArgs, caller) + (isCount ? TOTAL_COUNT_WEIGHT : 0);
          if (!selection.selectionSet) {
            if (field && jsonScalars.has(getNamedType(field.type).name)) cost += JSON_VALUE_WEIGHT;
            continue;
          }
          const childType = name === '__schema' ? schemaType : name === '__type' ? typeType : field ? (getNamedType(field.type) as GraphQLCompositeType) : undefined;
          const isIntrospection = name.startsWith('__');
          const childPage = childType && isConnectionType(childType.name) ? pageBound(args) : DEFAULT_PAGE_SIZE;
          const inner = analyzeSet(selection.selectionSet, childType, childPage, args);
          // Depth: introspection is governed by its own switch and this cost, not by nesting.
          const childDepth = isIntrospection ? 0 : inner.depth + 1;
          let size = 1;
          if (parentType && isConnectionType(parentType.name) && (name === 'edges' || name === 'nodes')) size = page;
          else if (declared?.list) size = listSize(declared, args, parentArgs);
          if (declared?.list?.pooledUnder) {
            // Priced where the list it is pooled under is known (below); elsewhere at its full per-object bound.
            // Its own pooled children are priced per item at their full bound (its count of items is not fixed).
            const innerCost = inner.cost + inner.pooled.reduce((sum, p) => sum + p.perParent * p.innerCost, 0);
            pooled.push({ via: declared.list.pooledUnder.via, perParent: Math.min(size, declared.list.pooledUnder.max), total: declared.list.pooledUnder.max, innerCost });
            depth = Math.max(depth, childDepth);
            continue;
          }
          let total = size * inner.cost;
          for (const p of inner.pooled) total += (p.via === key ? Math.min(size * p.perParent, p.total) : size * p.perParent) * p.innerCost;
          depth = Math.max(depth, childDepth);
          cost += total;
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          const type = selection.typeCondition ? (schema.getType(selection.typeCondition.name.value) as GraphQLCompositeType | undefined) : parentType;
          add(analyzeSet(selection.selectionSet, type, page, parentArgs));
        } else {
          const name = selection.name.value;
          const fragment = fragments.get(name);
          if (!fragment || inProgress.has(name)) continue; // cycles are reported by GraphQL's own validation
          const memoKey = typesSizedByParent.has(fragment.typeCondition.name.value) ? `${name}:${page}:${JSON.stringify(parentArgs)}` : `${name}:${page}`;
          let cached = memo.get(memoKey);
          if (!cached) {
            inProgress.add(name);
            cached = analyzeSet(fragment.selectionSet, schema.getType(fragment.typeCondition.name.value) as GraphQLCompositeType | undefined, page, parentArgs);
            inProgress.delete(name);
            memo.set(memoKey, cached);
          }
          add(cached);
        }
      }
      return { depth, cost, pooled };
    };

    const root = analyzeSet(operation.selectionSet, schema.getRootType(operation.operation) ?? undefined, DEFAULT_PAGE_SIZE, {});
    const cost = root.cost + root.pooled.reduce((sum, p) => sum + p.perParent * p.innerCost, 0);
    return { depth: root.depth, cost, ...(byCaller ? { byCaller } : {}) };
  };
  // Arguments the analysis reads: pages and limits everywhere, every argument of a field whose cost or whose
  // children's sizes are computed from its arguments.
  const pricedByArguments = new Set(Object.entries(costs).filter(([, c]) => typeof c.weight === 'function').map(([key]) => key));
  const limitArguments = new Set(['first', 'last', ...Object.values(costs).flatMap((c) => (c.list?.limitArgument ? [c.list.limitArgument] : []))]);
  const costVariables: CostModel['costVariables'] = (document, operation) => {
    const names = new Set<string>();
    const collect = (node: ValueNode) => {
      visit(node, { Variable: (variable) => void names.add(variable.name.value) });
    };
    const walk = (selectionSet: SelectionSetNode, parentType: GraphQLCompositeType | undefined, seen: Set<string>) => {
      for (const selection of selectionSet.selections) {
        if (selection.kind === Kind.FIELD) {
          const fields = parentType && (isObjectType(parentType) || isInterfaceType(parentType)) ? parentType.getFields() : undefined;
          const field = fields?.[selection.name.value];
          const childType = field ? (getNamedType(field.type) as GraphQLCompositeType) : undefined;
          const allArguments = pricedByArguments.has(`${parentType?.name}.${selection.name.value}`) || (childType !== undefined && typesSizedByParent.has(childType.name));
          for (const argument of selection.arguments ?? []) if (allArguments || limitArguments.has(argument.name.value)) collect(argument.value);
          if (selection.selectionSet) walk(selection.selectionSet, childType, seen);
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          walk(selection.selectionSet, selection.typeCondition ? (schema.getType(selection.typeCondition.name.value) as GraphQLCompositeType | undefined) : parentType, seen);
        } else if (!seen.has(selection.name.value)) {
          const fragment = document.definitions.find((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === selection.name.value);
          if (fragment) walk(fragment.selectionSet, schema.getType(fragment.typeCondition.name.value) as GraphQLCompositeType | undefined, seen.add(fragment.name.value));
        }
      }
    };
    walk(operation.selectionSet, schema.getRootType(operation.operation) ?? undefined, new Set());
    return [...names];
  };
  return { analyze, costVariables };
}
