import {
  defaultFieldResolver,
  getNamedType,
  isEnumType,
  isObjectType,
  type GraphQLResolveInfo,
  valueFromASTUntyped,
  type ConstDirectiveNode,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import type { ApiKeyPermission } from '../../generated/prisma/client.js';
import { forbidden } from '../../errors.js';
import { memoizeByObject } from '../shared/memo.js';
import { requireViewer } from './guards.js';
import type { Viewer } from './viewer.js';

/**
 * Authorization declared on the schema, deny by default. Every object type states what reading it needs
 * (`type Graph @auth(requires: [])`), a field may state more (`owner: User! @auth(requires: [READ_GRAPHS])`), and
 * every Query and Mutation field states its own; an object field with neither, or a root field without its own, stops
 * the server at start (`assertEveryFieldAuthorized`). Requests without a valid key never execute (app.ts answers 401),
 * so `requires: []` means "any key"; ADMIN implies every permission. Whose rows a key sees is the domains' business
 * (ownership scopes in their services), not this file's.
 *
 * A field is checked where its requirement is not already guaranteed by the paths that reach its object
 * (`guaranteedPermissions`): under `Query.graphs` (READ_GRAPHS) `Graph.owner` needs no check of its own, under
 * `Query.viewer` `User.sessions` does. Only fields that can ask for more than their parent guarantees are wrapped.
 */
export type FieldRequirement = ReadonlySet<ApiKeyPermission>;

const DIRECTIVE = 'auth';

function requirementOf(directives: readonly ConstDirectiveNode[] | undefined): FieldRequirement | null {
  const directive = directives?.find((d) => d.name.value === DIRECTIVE);
  if (!directive) return null;
  const requires = directive.arguments?.find((a) => a.name.value === 'requires');
  const value = requires ? (valueFromASTUntyped(requires.value) as ApiKeyPermission[] | ApiKeyPermission) : [];
  return new Set(Array.isArray(value) ? value : [value]);
}

const typeDirectives = (type: GraphQLObjectType) => [...(type.astNode?.directives ?? []), ...type.extensionASTNodes.flatMap((n) => n.directives ?? [])];

export type AuthRules = {
  /** What reading an object of the type needs (its fields' requirement unless they state their own). */
  ofType(typeName: string): FieldRequirement | null;
  /** What resolving `Type.field` needs. */
  ofField(typeName: string, fieldName: string): FieldRequirement | null;
};

/** The declared rules of a schema built from the SDL (read from its AST; kept per schema object). */
export const authRules = memoizeByObject((schema: GraphQLSchema): AuthRules => {
  const types = new Map<string, FieldRequirement | null>();
  const fields = new Map<string, FieldRequirement | null>();
  const isRoot = (type: GraphQLObjectType) => type === schema.getQueryType() || type === schema.getMutationType() || type === schema.getSubscriptionType();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    const ofType = isRoot(type) ? null : requirementOf(typeDirectives(type));
    types.set(type.name, ofType);
    for (const field of Object.values(type.getFields())) fields.set(`${type.name}.${field.name}`, requirementOf(field.astNode?.directives) ?? ofType);
  }
  return { ofType: (name) => types.get(name) ?? null, ofField: (type, field) => fields.get(`${type}.${field}`) ?? null };
});

/** Deny by default: the coordinates of every field with no rule (none may be left). */
export function unauthorizedFields(schema: GraphQLSchema): string[] {
  const rules = authRules(schema);
  const missing: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) if (!rules.ofField(type.name, field.name)) missing.push(`${type.name}.${field.name}`);
  }
  return missing;
}

export function assertEveryFieldAuthorized(schema: GraphQLSchema): void {
  const missing = unauthorizedFields(schema);
  if (missing.length) throw new Error(`Fields without an @auth rule (on the field, or on its type): ${missing.join(', ')}`);
}

/** Whether every permission of `needed` is in `held` (no array per call: this runs on every checked field). */
function holdsAll(held: ReadonlySet<ApiKeyPermission>, needed: FieldRequirement): boolean {
  for (const permission of needed) if (!held.has(permission)) return false;
  return true;
}

export const allows = (viewer: Viewer, requirement: FieldRequirement) => viewer.isAdmin || holdsAll(viewer.permissions, requirement);

/** The FORBIDDEN answer of a field the key may not resolve. */
export const missingPermission = (requirement: FieldRequirement, coordinate: string) =>
  forbidden(`This API key lacks the ${[...requirement].join(' and ')} permission${requirement.size > 1 ? 's' : ''} that ${coordinate} needs.`);

/** What resolving `Type.field` needs: the field's rule and the rule of the object type it returns. */
export function requirementAt(rules: AuthRules, type: GraphQLObjectType, field: GraphQLField<unknown, unknown>): FieldRequirement {
  const returned = getNamedType(field.type);
  return new Set([...(rules.ofField(type.name, field.name) ?? []), ...(isObjectType(returned) ? (rules.ofType(returned.name) ?? []) : [])]);
}

/**
 * The permissions a viewer is known to hold once an object of each type is resolved: the intersection, over every
 * field that returns the type, of what its parent guaranteed and what the field checked. Answers of mutations are
 * checked whole before the mutation runs (readable-answers.ts), so what a Mutation field returns guarantees
 * everything. A fixed point from "everything" down, over the schema's object types.
 */
function guaranteedPermissions(schema: GraphQLSchema, rules: AuthRules, everything: FieldRequirement): Map<string, FieldRequirement> {
  const objectTypes = Object.values(schema.getTypeMap()).filter((t): t is GraphQLObjectType => isObjectType(t) && !t.name.startsWith('__'));
  const guaranteed = new Map<string, FieldRequirement>(objectTypes.map((t) => [t.name, everything]));
  // The roots guarantee nothing: each of their fields checks its own rule.
  const roots = new Set([schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].flatMap((t) => (t ? [t.name] : [])));
  for (const root of roots) guaranteed.set(root, new Set());
  const mutation = schema.getMutationType();
  for (let changed = true; changed; ) {
    changed = false;
    const incoming = new Map<string, FieldRequirement>();
    for (const parent of objectTypes) {
      for (const field of Object.values(parent.getFields())) {
        const returned = getNamedType(field.type);
        if (!isObjectType(returned)) continue;
        const known = parent === mutation ? everything : new Set([...guaranteed.get(parent.name)!, ...requirementAt(rules, parent, field)]);
        const before = incoming.get(returned.name);
        incoming.set(returned.name, before ? new Set([...before].filter((p) => known.has(p))) : known);
      }
    }
    for (const [name, known] of incoming) {
      if (roots.has(name)) continue;
      if (known.size !== guaranteed.get(name)!.size) {
        guaranteed.set(name, known);
        changed = true;
      }
    }
  }
  return guaranteed;
}

/**
 * Wraps, in place, the resolver of every field whose requirement is not already guaranteed where it is resolved
 * (see above): the check runs before the field's own resolver, so a refused field does no work. Every Mutation field
 * also checks, before it runs, that the key may read everything its selection asks back.
 */
export function enforceFieldAuth(schema: GraphQLSchema, checkAnswer: (viewer: Viewer, info: GraphQLResolveInfo) => void): void {
  assertEveryFieldAuthorized(schema);
  const rules = authRules(schema);
  const permissions = schema.getType('ApiKeyPermission');
  const everything: FieldRequirement = new Set(isEnumType(permissions) ? permissions.getValues().map((v) => v.value as ApiKeyPermission) : []);
  const guaranteed = guaranteedPermissions(schema, rules, everything);
  const mutation = schema.getMutationType();
  const subscription = schema.getSubscriptionType();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields()) as Array<GraphQLField<unknown, unknown>>) {
      const needed = requirementAt(rules, type, field);
      const isMutation = type === mutation;
      if (!isMutation && holdsAll(guaranteed.get(type.name)!, needed)) continue;
      const resolve = field.resolve ?? defaultFieldResolver;
      const coordinate = `${type.name}.${field.name}`;
      const check = (ctx: unknown) => {
        const viewer = requireViewer((ctx as { viewer: Viewer | null }).viewer);
        if (!allows(viewer, needed)) throw missingPermission(needed, coordinate);
        return viewer;
      };
      field.resolve = (source, args, ctx, info) => {
        const viewer = check(ctx);
        if (isMutation) checkAnswer(viewer, info);
        return resolve(source, args, ctx, info);
      };
      // A subscription is refused when it starts, before it listens to anything (and its events are checked again:
      // a key's permissions may change while it listens).
      const subscribe = field.subscribe;
      if (type === subscription && subscribe) {
        field.subscribe = (source, args, ctx, info) => {
          check(ctx);
          return subscribe(source, args, ctx, info);
        };
      }
    }
  }
}
