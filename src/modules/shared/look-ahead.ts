import type { GraphQLResolveInfo } from 'graphql';
import type { Prisma } from '../../generated/prisma/client.js';
import type { GraphQLContext } from '../../context.js';
import { childFields, type ChildField } from './selection.js';

/**
 * Look-ahead: pages of child rows read along with their parents' statement (extra columns of the parent's rows),
 * then handed to the loaders the nested fields use. The child's domain owns how its field is read along: it registers
 * a provider for `Parent.field` here, and the parent's list asks `lookAheadUnder` for whatever the query selects,
 * without knowing the child's module (graphs never imports executions).
 */
export type LookAhead<Parent> = {
  /** Identifies the columns (part of a batching key). */
  key: string;
  columns: Prisma.Sql[];
  /** Takes the child pages out of a parent row read with `columns` and primes the loaders with them. */
  prime(parent: Parent, row: Record<string, unknown>): void;
};

/** A child field's look-ahead for its occurrences in the query; null when it has none to offer. */
export type LookAheadProvider<Parent> = (ctx: GraphQLContext, occurrences: ChildField[]) => LookAhead<Parent> | null;

// Static wiring, filled once as the modules load (src/modules/resolvers.ts imports them all): no request state.
const providers = new Map<string, Array<{ field: string; provide: LookAheadProvider<never> }>>();

export function registerLookAhead<Parent>(parentType: string, field: string, provide: LookAheadProvider<Parent>): void {
  const list = providers.get(parentType) ?? [];
  if (list.some((entry) => entry.field === field)) throw new Error(`Look-ahead for ${parentType}.${field} is registered twice`);
  list.push({ field, provide: provide as LookAheadProvider<never> });
  providers.set(parentType, list);
}

/** The look-ahead of every registered child field of `parentType` the query asks under this field's rows, as one. */
export function lookAheadUnder<Parent>(ctx: GraphQLContext, info: GraphQLResolveInfo, parentType: string): LookAhead<Parent> | null {
  const found: Array<LookAhead<Parent>> = [];
  for (const { field, provide } of providers.get(parentType) ?? []) {
    const occurrences = childFields(info, parentType, field);
    const lookAhead = occurrences.length ? (provide as LookAheadProvider<Parent>)(ctx, occurrences) : null;
    if (lookAhead) found.push(lookAhead);
  }
  if (found.length <= 1) return found[0] ?? null;
  return {
    key: found.map((l) => l.key).join('|'),
    columns: found.flatMap((l) => l.columns),
    prime: (parent, row) => found.forEach((l) => l.prime(parent, row)),
  };
}
