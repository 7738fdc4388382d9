import { EmailAddressResolver, JSONObjectResolver, JSONResolver, PositiveIntResolver, UUIDResolver } from 'graphql-scalars';
import { DateTimeScalar, NonNegativeIntScalar } from './shared/scalars.js';
import type { Resolvers } from '../generated/graphql.js';
import { authResolvers } from './auth/resolvers.js';
import { blockResolvers } from './blocks/resolvers.js';
import { executionResolvers } from './executions/resolvers.js';
import { graphResolvers } from './graphs/resolvers.js';
import { userResolvers } from './users/resolvers.js';
import { sessionResolvers } from './sessions/resolvers.js';
import { statsResolvers } from './stats/resolvers.js';

const scalarResolvers: Resolvers = {
  DateTime: DateTimeScalar,
  JSON: JSONResolver,
  JSONObject: JSONObjectResolver,
  UUID: UUIDResolver,
  EmailAddress: EmailAddressResolver,
  NonNegativeInt: NonNegativeIntScalar,
  PositiveInt: PositiveIntResolver,
};

/** Merges the domain modules' resolver maps (type by type, so two modules may extend Query). */
export function mergeResolvers(...maps: Resolvers[]): Resolvers {
  const merged: Record<string, Record<string, unknown>> = {};
  for (const map of maps) {
    for (const [type, fields] of Object.entries(map)) {
      const target = (merged[type] ??= {});
      if (fields && typeof fields === 'object' && !(Symbol.toStringTag in fields) && !('serialize' in fields)) {
        for (const [name, resolver] of Object.entries(fields)) {
          if (name in target) throw new Error(`Resolver ${type}.${name} is defined twice`);
          target[name] = resolver;
        }
      } else {
        merged[type] = fields as Record<string, unknown>;
      }
    }
  }
  return merged as Resolvers;
}

export const resolvers = mergeResolvers(scalarResolvers, userResolvers, graphResolvers, blockResolvers, executionResolvers, authResolvers, sessionResolvers, statsResolvers);
