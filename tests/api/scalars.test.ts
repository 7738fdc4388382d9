import { describe, expect, it } from 'vitest';
import { DateTimeScalar, NonNegativeIntScalar } from '../../src/modules/shared/scalars.js';

/** The custom scalars' edges, below the HTTP tests that use them everywhere. */
describe('DateTime', () => {
  it('serializes to the ISO string (what a Date would have become in JSON), never to a Date object', () => {
    const at = new Date('2026-03-08T07:30:00.123Z');
    expect(DateTimeScalar.serialize(at)).toBe('2026-03-08T07:30:00.123Z');
    expect(DateTimeScalar.serialize('2026-03-08T09:30:00.123+02:00')).toBe('2026-03-08T07:30:00.123Z');
    expect(JSON.stringify({ at: DateTimeScalar.serialize(at) })).toBe(JSON.stringify({ at }));
  });

  it('accepts years 1 to 9999 only', () => {
    expect(DateTimeScalar.parseValue('0001-01-01T00:00:00Z')).toEqual(new Date('0001-01-01T00:00:00Z'));
    expect(() => DateTimeScalar.parseValue('0000-12-31T00:00:00Z')).toThrow(/years 1 to 9999/);
  });
});

describe('NonNegativeInt', () => {
  it('refuses fractions, negatives and values beyond int4', () => {
    expect(NonNegativeIntScalar.parseValue(0)).toBe(0);
    for (const bad of [1.5, -1, 2_147_483_648, '3']) expect(() => NonNegativeIntScalar.parseValue(bad)).toThrow(/whole number/);
  });
});
