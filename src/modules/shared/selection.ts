import {
  getArgumentValues,
  getDirectiveValues,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  Kind,
  type FieldNode,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLResolveInfo,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';
import { memoizeByObject } from './memo.js';

/**
 * The names of the fields a query asks of the rows a resolver returns: for a connection, the fields under `nodes`
 * and `edges { node }`; otherwise the field's own selection. Fragments are followed. Used to leave out large
 * columns (JSON payloads) that nobody asked for.
 */
type Level = 'connection' | 'edge' | 'row';

/**
 * Walks the row-level fields under `fieldNodes` (a connection's `nodes` / `edges { node }` rows, or the object
 * itself), following fragments. With `variables`, selections that `@skip`/`@include` leave out are not visited;
 * without, every selection counts as asked.
 */
export function visitRowFields(
  fieldNodes: readonly FieldNode[],
  fragments: GraphQLResolveInfo['fragments'],
  isConnection: boolean,
  onRowField: (field: FieldNode) => void,
  onConnectionField?: (field: FieldNode) => void,
  variables?: GraphQLResolveInfo['variableValues'],
): void {
  const visit = (selectionSet: SelectionSetNode | undefined, level: Level, seen: Set<string>) => {
    if (!selectionSet) return;
    for (const selection of selectionSet.selections) {
      if (variables && !isIncluded(selection, variables)) continue;
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        visit(selection.selectionSet, level, seen);
      } else if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments[selection.name.value];
        if (fragment && !seen.has(fragment.name.value)) visit(fragment.selectionSet, level, new Set([...seen, fragment.name.value]));
      } else {
        const name = selection.name.value;
        if (level === 'connection') onConnectionField?.(selection);
        if (level === 'row') onRowField(selection);
        else if (level === 'connection' && name === 'nodes') visit(selection.selectionSet, 'row', seen);
        else if (level === 'connection' && name === 'edges') visit(selection.selectionSet, 'edge', seen);
        else if (level === 'edge' && name === 'node') visit(selection.selectionSet, 'row', seen);
      }
    }
  };
  for (const node of fieldNodes) visit(node.selectionSet, isConnection ? 'connection' : 'row', new Set());
}

function isIncluded(node: SelectionNode, variables: GraphQLResolveInfo['variableValues']): boolean {
  if (!node.directives?.length) return true;
  if (getDirectiveValues(GraphQLSkipDirective, node, variables)?.if === true) return false;
  return getDirectiveValues(GraphQLIncludeDirective, node, variables)?.if !== false;
}

const isConnectionType = (type: GraphQLOutputType) => type.toString().replace(/!$/, '').endsWith('Connection');

/**
 * Adds a row field's name, and for an object field the names of its own fields as `field.subfield` (one level, so
 * a page can tell that `node { blockId }` needs none of the node's large columns).
 */
function addRowField(names: Set<string>, field: FieldNode, fragments: GraphQLResolveInfo['fragments']): void {
  const name = field.name.value;
  names.add(name);
  if (field.selectionSet) visitRowFields([field], fragments, false, (sub) => names.add(`${name}.${sub.name.value}`));
}

/**
 * What a list field's query asks of it: the fields of its rows (for a connection, those under `nodes` and
 * `edges { node }`; otherwise the field's own selection; object fields also add their subfields as
 * `field.subfield`), and whether it asks for `pageInfo`. Fragments are followed; directives are not evaluated, so
 * a field under `@skip`/`@include` counts as asked. Used to leave out large columns (JSON payloads) nobody asked
 * for, and the row past a page's end that only `pageInfo.hasNextPage` needs.
 */
export type ListSelection = {
  rowFields: ReadonlySet<string>;
  /** Whether the page must read one row past its end, to tell `pageInfo.hasNextPage`. */
  probesNextPage: boolean;
};

function selectionOf(fieldNodes: readonly FieldNode[], fragments: GraphQLResolveInfo['fragments'], isConnection: boolean): ListSelection {
  const rowFields = new Set<string>();
  let probesNextPage = false;
  visitRowFields(
    fieldNodes,
    fragments,
    isConnection,
    (field) => addRowField(rowFields, field, fragments),
    (field) => {
      if (field.name.value === 'pageInfo') probesNextPage = true;
    },
  );
  return { rowFields, probesNextPage };
}

/**
 * The answer depends on the document alone (the field's nodes, its fragments and its type), and a field resolved for
 * every row of a list gets the same `fieldNodes` array each time: memoized on it, so it is computed once per field
 * of a document rather than once per row. Weakly held: it goes with the document.
 */
const selectionOfFieldNodes = memoizeByObject((fieldNodes: readonly FieldNode[], info: GraphQLResolveInfo) =>
  selectionOf(fieldNodes, info.fragments, isConnectionType(info.returnType)),
);

export const listSelection = (info: GraphQLResolveInfo): ListSelection => selectionOfFieldNodes(info.fieldNodes, info);

/** The fields a query asks of the rows a resolver returns (`ListSelection.rowFields`). */
export const requestedRowFields = (info: GraphQLResolveInfo): ReadonlySet<string> => listSelection(info).rowFields;

/** One occurrence of a child field in the query, as its resolver will see it. */
export type ChildField = ListSelection & {
  /** The field's arguments, with variables and defaults applied. */
  args: Record<string, unknown>;
};

/**
 * Look-ahead: every occurrence of the row field `name` (of the object type `rowType`) under this resolver's rows,
 * so a resolver can read its children's pages in its own statement and prime the loaders the children use.
 * Directives are not evaluated (a skipped field is only read for nothing).
 */
export function childFields(info: GraphQLResolveInfo, rowType: string, name: string): ChildField[] {
  return childFieldNodes(info, rowType, name).map(({ field, definition, selection }) => ({
    ...selection,
    args: getArgumentValues(definition, field, info.variableValues),
  }));
}

type ChildFieldNode = { field: FieldNode; definition: GraphQLField<unknown, unknown>; selection: ListSelection };

/** The occurrences `childFields` reads its arguments from: they depend on the document alone, so memoized like `listSelection`. */
const childFieldNodesOf = new WeakMap<readonly FieldNode[], Map<string, ChildFieldNode[]>>();

function childFieldNodes(info: GraphQLResolveInfo, rowType: string, name: string): ChildFieldNode[] {
  let byChild = childFieldNodesOf.get(info.fieldNodes);
  if (!byChild) childFieldNodesOf.set(info.fieldNodes, (byChild = new Map()));
  let found = byChild.get(`${rowType}.${name}`);
  if (found) return found;
  found = [];
  const type = info.schema.getType(rowType);
  const definition = type && 'getFields' in type ? (type as GraphQLObjectType).getFields()[name] : undefined;
  if (definition) {
    visitRowFields(info.fieldNodes, info.fragments, isConnectionType(info.returnType), (field) => {
      if (field.name.value === name) found!.push({ field, definition, selection: selectionOf([field], info.fragments, isConnectionType(definition.type)) });
    });
  }
  byChild.set(`${rowType}.${name}`, found);
  return found;
}
