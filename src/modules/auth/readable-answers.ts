import { getNamedType, isObjectType, type FieldNode, type GraphQLField, type GraphQLObjectType, type GraphQLResolveInfo } from 'graphql';
import { forbidden } from '../../errors.js';
import { visitRowFields } from '../shared/selection.js';
import { allows, authRules, requirementAt } from './field-auth.js';
import type { Viewer } from './viewer.js';

/**
 * What a mutation answers obeys the read rules declared on the schema (field-auth.ts), and is judged before
 * anything is written: a mutation either applies and answers, or is refused and changes nothing. (Refusing a
 * payload field after the write would null the whole non-null chain up to `data`, hiding a write that did happen.)
 * So a key that may write but not read (WRITE_GRAPHS, EXECUTE_GRAPHS or WRITE_SESSIONS alone) reads back what the
 * declarations give any key — the written object's ids, status, version, timestamps — and nothing they reserve for
 * READ_GRAPHS or READ_SESSIONS (related objects, lists, content).
 */
export function requireReadableAnswer(viewer: Viewer, info: GraphQLResolveInfo): void {
  if (viewer.isAdmin) return;
  const refused = refusedFieldsAsked(viewer, info);
  if (refused.length > 0) {
    throw forbidden(
      `This API key may not read ${refused.map((path) => `\`${path}\``).join(', ')} (${[...new Set(refused.map((p) => p.split(' ')[1]))].join(', ')}); ` +
        'nothing was changed. Select only what the key may read.',
    );
  }
}

/** `path needs` for every field the selection asks under the mutation that the key may not resolve (skipped ones aside). */
function refusedFieldsAsked(viewer: Viewer, info: GraphQLResolveInfo): string[] {
  const rules = authRules(info.schema);
  const refused: string[] = [];
  const walk = (parents: readonly FieldNode[], type: GraphQLObjectType, path: string) => {
    forEachField(info, parents, type, (field, definition) => {
      const returned = getNamedType(definition.type);
      const needed = requirementAt(rules, type, definition);
      const at = `${path}${path ? '.' : ''}${field.name.value}`;
      if (!allows(viewer, needed)) refused.push(`${at} ${[...needed].join('+')}`);
      else if (isObjectType(returned)) walk([field], returned, at);
    });
  };
  const payloadType = getNamedType(info.returnType);
  if (isObjectType(payloadType)) walk(info.fieldNodes, payloadType, '');
  return refused;
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
