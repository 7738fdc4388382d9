import { GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { DateTimeResolver, NonNegativeIntResolver } from 'graphql-scalars';
import { isoTimestamp } from './iso-time.js';

/** Wraps a scalar so inputs pass an extra check; outputs are untouched. */
function refine<T>(base: GraphQLScalarType, check: (value: T) => string | null): GraphQLScalarType {
  const checked = (value: T): T => {
    const problem = check(value);
    if (problem) throw new TypeError(problem);
    return value;
  };
  return new GraphQLScalarType({
    ...base.toConfig(),
    parseValue: (value) => checked(base.parseValue(value) as T),
    parseLiteral: (ast: ValueNode, variables) => checked(base.parseLiteral(ast, variables) as T),
  });
}

/**
 * Timestamps PostgreSQL's timestamptz holds: years 1 to 9999 (graphql-scalars alone would accept year 0).
 * Output values are ISO strings, not the Date objects graphql-scalars returns: the wire format is the same (a Date's
 * JSON is its ISO string), but a result holding Dates takes JSON.stringify's slow path (a `toJSON` call per value)
 * — measured 5.6 ms instead of 0.5 ms for a response with 3,000 timestamps.
 */
const RangedDateTime = refine<Date>(DateTimeResolver, (date) => {
  const year = date.getUTCFullYear();
  return year >= 1 && year <= 9999 ? null : `DateTime must fall in the years 1 to 9999, got ${date.toISOString()}.`;
});
export const DateTimeScalar = new GraphQLScalarType({
  ...RangedDateTime.toConfig(),
  serialize: (value) => {
    // The common case (a Date read from the database) directly; anything else through graphql-scalars' checks.
    if (value instanceof Date && !Number.isNaN(value.getTime())) return isoTimestamp(value);
    const serialized = RangedDateTime.serialize(value);
    return serialized instanceof Date ? isoTimestamp(serialized) : serialized;
  },
});

/**
 * A whole number from 0 to 2^31 - 1 (an int4 column). Written out rather than wrapped: graphql-scalars'
 * NonNegativeInt truncates 1.5 to 1 instead of refusing it.
 */
const checkNonNegativeInt = (value: unknown): number => {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 2_147_483_647) {
    throw new TypeError(`NonNegativeInt must be a whole number from 0 to 2147483647, got ${JSON.stringify(value)}.`);
  }
  return value;
};

export const NonNegativeIntScalar = new GraphQLScalarType({
  ...NonNegativeIntResolver.toConfig(),
  parseValue: checkNonNegativeInt,
  parseLiteral: (ast) => checkNonNegativeInt(ast.kind === Kind.INT ? Number(ast.value) : Number.NaN),
});
