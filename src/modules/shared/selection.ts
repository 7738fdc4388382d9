import { Kind, type FieldNode, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';

/**
 * The names of the fields a query asks of the rows a resolver returns: for a connection, the fields under `nodes`
 * and `edges { node }`; otherwise the field's own selection. Fragments are followed. Used to leave out large
 * columns (JSON payloads) that nobody asked for.
 */
export function requestedRowFields(info: GraphQLResolveInfo): Set<string> {
  const names = new Set<string>();
  const visit = (selectionSet: SelectionSetNode | undefined, depthInConnection: 'connection' | 'edge' | 'row', seen: Set<string>) => {
    if (!selectionSet) return;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        visit(selection.selectionSet, depthInConnection, seen);
      } else if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = info.fragments[selection.name.value];
        if (fragment && !seen.has(fragment.name.value)) visit(fragment.selectionSet, depthInConnection, new Set([...seen, fragment.name.value]));
      } else {
        visitField(selection, depthInConnection, seen);
      }
    }
  };
  const visitField = (field: FieldNode, level: 'connection' | 'edge' | 'row', seen: Set<string>) => {
    const name = field.name.value;
    if (level === 'row') names.add(name);
    else if (level === 'connection' && name === 'nodes') visit(field.selectionSet, 'row', seen);
    else if (level === 'connection' && name === 'edges') visit(field.selectionSet, 'edge', seen);
    else if (level === 'edge' && name === 'node') visit(field.selectionSet, 'row', seen);
  };
  const isConnection = info.returnType.toString().replace(/!$/, '').endsWith('Connection');
  for (const node of info.fieldNodes) visit(node.selectionSet, isConnection ? 'connection' : 'row', new Set());
  return names;
}

/** Whether any of the large fields is requested. */
export const requestsAny = (info: GraphQLResolveInfo, fields: readonly string[]): boolean => {
  const requested = requestedRowFields(info);
  return fields.some((field) => requested.has(field));
};
