import { getNamedType, isLeafType, isObjectType, type FieldNode, type GraphQLField, type GraphQLObjectType, type GraphQLResolveInfo } from 'graphql';
import type { GraphQLContext } from '../../context.js';
import type { ApiKeyPermission } from '../../generated/prisma/client.js';
import { forbidden } from '../../errors.js';
import { visitRowFields } from '../shared/selection.js';
import { requirePermission } from './guards.js';
import type { Viewer } from './viewer.js';

/**
 * What a graph or execution mutation answers obeys the read permissions, and is judged before anything is
 * written: a mutation either applies and answers, or is refused and changes nothing. (Refusing a payload field
 * after the write would null the whole non-null chain up to `data`, hiding a write that did happen.)
 *
 * Without READ_GRAPHS, a key (an executor's EXECUTE_GRAPHS, an editor's WRITE_GRAPHS) may read back the leaf
 * fields of the object the mutation wrote — ids, status, timestamps, cost, the JSON it sent — but no related object
 * or list (a run's graph, user, parent or node executions; a node execution's node or run; a graph's owner, nodes,
 * links, versions, runs or statistics): that is graph data it may not read.
 */
export function requireReadableAnswer(viewer: Viewer | null, info: GraphQLResolveInfo): void {
  if (!viewer || viewer.isAdmin || viewer.permissions.has('READ_GRAPHS')) return;
  const related = relatedFieldsAsked(info);
  if (related.length > 0) {
    throw forbidden(
      `This API key lacks the READ_GRAPHS permission needed to answer ${related.map((path) => `\`${path}\``).join(', ')}; ` +
        'nothing was changed. Without READ_GRAPHS, select only the written object’s own fields.',
    );
  }
}

type MutationResolver<Args, Result> = (root: unknown, args: Args, ctx: GraphQLContext, info: GraphQLResolveInfo) => Result;

/**
 * A mutation resolver that checks, before it runs (so before anything is written), its own permission and then
 * that the key may read what the selection asks back (`requireReadableAnswer`).
 */
export function answerReadableFirst<Args, Result>(permission: ApiKeyPermission, mutate: (args: Args, ctx: GraphQLContext) => Result): MutationResolver<Args, Result> {
  return (_root, args, ctx, info) => {
    requireReadableAnswer(requirePermission(ctx.viewer, permission), info);
    return mutate(args, ctx);
  };
}

/** `payloadField.relation` for every non-leaf field the selection asks of the payload's objects (skipped ones aside). */
function relatedFieldsAsked(info: GraphQLResolveInfo): string[] {
  const related = new Set<string>();
  const payloadType = getNamedType(info.returnType);
  if (!isObjectType(payloadType)) return [];
  forEachField(info, info.fieldNodes, payloadType, (payloadField, definition) => {
    const written = getNamedType(definition.type);
    if (!isObjectType(written)) return;
    forEachField(info, [payloadField], written, (field, fieldDefinition) => {
      if (!isLeafType(getNamedType(fieldDefinition.type))) related.add(`${payloadField.name.value}.${field.name.value}`);
    });
  });
  return [...related];
}

/** Calls `onField` for each field selected under `parents` (fragments followed, `@skip`/`@include` applied). */
function forEachField(
  info: GraphQLResolveInfo,
  parents: readonly FieldNode[],
  type: GraphQLObjectType,
  onField: (field: FieldNode, definition: GraphQLField<unknown, unknown>) => void,
): void {
  const fields = type.getFields();
  visitRowFields(
    parents,
    info.fragments,
    false,
    (field) => {
      const definition = fields[field.name.value];
      if (definition) onField(field, definition);
    },
    undefined,
    info.variableValues,
  );
}
