import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoTimestamp } from '../../src/modules/shared/iso-time.js';
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

describe('isoTimestamp', () => {
  it('writes what toISOString writes, for every millisecond of the years 1 to 9999 and beyond', () => {
    const edges = ['0001-01-01T00:00:00.000Z', '0999-12-31T23:59:59.999Z', '1000-01-01T00:00:00.000Z', '1969-12-31T23:59:59.999Z', '1970-01-01T00:00:00.000Z',
      '2000-02-29T12:00:00.001Z', '2100-03-01T00:00:00.000Z', '2024-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999Z'];
    for (const text of edges) expect(isoTimestamp(new Date(text))).toBe(text);
    // Outside the fast path's range it is toISOString's own answer (six-digit years).
    for (const ms of [-62_135_596_800_001, 253_402_300_800_000, 8.64e15]) expect(isoTimestamp(new Date(ms))).toBe(new Date(ms).toISOString());
    fc.assert(fc.property(fc.integer({ min: -62_200_000_000_000, max: 253_500_000_000_000 }), (ms) => isoTimestamp(new Date(ms)) === new Date(ms).toISOString()), { numRuns: 20_000 });
  });

  it('writes whole minutes (a time series: kept per day and minute) as toISOString does, across days, years and eras', () => {
    for (const start of [Date.UTC(2025, 11, 30, 23), -62_135_596_800_000, Date.UTC(1600, 1, 28), Date.UTC(9999, 11, 31, 22)]) {
      for (let ms = start; ms < start + 3 * 86_400_000 && ms < 253_402_300_800_000; ms += 15 * 60_000) {
        expect(isoTimestamp(new Date(ms))).toBe(new Date(ms).toISOString());
        // Interleaved with other timestamps, as a response's other fields are.
        expect(isoTimestamp(new Date(ms + 1_234))).toBe(new Date(ms + 1_234).toISOString());
      }
    }
  });
});

describe('NonNegativeInt', () => {
  it('refuses fractions, negatives and values beyond int4', () => {
    expect(NonNegativeIntScalar.parseValue(0)).toBe(0);
    for (const bad of [1.5, -1, 2_147_483_648, '3']) expect(() => NonNegativeIntScalar.parseValue(bad)).toThrow(/whole number/);
  });
});
