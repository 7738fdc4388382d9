import { describe, expect, it } from 'vitest';
import { EARLIEST_STATS_FROM } from '../../src/modules/stats/stats-service.js';
import { bucketStarts, isKnownTimeZone } from '../../src/modules/stats/time-buckets.js';
import { expectedBucketStarts } from './expected.js';

// Zones with DST at 02:00 (New York), at midnight (Santiago, Havana: local midnight is skipped on the spring day),
// a 30-minute DST shift (Lord Howe), half- and quarter-hour offsets (Kolkata, Kathmandu) and none (UTC, Tokyo).
const ZONES = ['UTC', 'America/New_York', 'America/Santiago', 'America/Havana', 'Australia/Lord_Howe', 'Asia/Kolkata', 'Asia/Kathmandu', 'Asia/Tokyo', 'Europe/London'];

describe('calendar buckets', () => {
  it.each(ZONES)('match a brute-force scan of the local calendar in %s', (zone) => {
    const cases: Array<[string, string, string]> = [
      ['DAY', '2026-01-01T00:00:00Z', '2026-12-31T00:00:00Z'],
      ['WEEK', '2026-01-01T00:00:00Z', '2026-12-31T00:00:00Z'],
      ['HOUR', '2026-03-05T00:00:00Z', '2026-03-15T00:00:00Z'],
      ['HOUR', '2026-04-01T00:00:00Z', '2026-04-08T00:00:00Z'],
      ['HOUR', '2026-09-03T00:00:00Z', '2026-09-09T00:00:00Z'],
      ['HOUR', '2026-10-24T00:00:00Z', '2026-11-03T00:00:00Z'],
    ];
    for (const [bucket, from, to] of cases) {
      const actual = bucketStarts(bucket as 'DAY', zone, Date.parse(from), Date.parse(to), 10_000)!;
      const expected = expectedBucketStarts(bucket, zone, Date.parse(from), Date.parse(to)).map((s) => s.start);
      expect(actual.map((t) => new Date(t).toISOString()), `${zone} ${bucket} ${from}`).toEqual(expected.map((t) => new Date(t).toISOString()));
    }
  });

  it.each(ZONES)('gives a 13-month range of hours (offset changes read by whole years, kept) the starts of its month-long pieces in %s', (zone) => {
    const months = Array.from({ length: 14 }, (_, i) => Date.UTC(2025, 11 + i, 1));
    const long = bucketStarts('HOUR', zone, months[0]!, months[13]!, 10_000)!;
    const pieces = new Set<number>();
    for (let i = 0; i < 13; i++) for (const start of bucketStarts('HOUR', zone, months[i]!, months[i + 1]!, 10_000)!) pieces.add(start);
    expect(long).toEqual([...pieces].sort((a, b) => a - b));
    // Asked again (the years are kept now), the same answer.
    expect(bucketStarts('HOUR', zone, months[0]!, months[13]!, 10_000)).toEqual(long);
  });

  it('starts a New York DST day at local midnight, lasting 23 and 25 hours', () => {
    const days = bucketStarts('DAY', 'America/New_York', Date.parse('2026-03-07T05:00:00Z'), Date.parse('2026-11-03T05:00:00Z'), 10_000)!;
    const length = (start: string) => (days[days.indexOf(Date.parse(start)) + 1]! - Date.parse(start)) / 3_600_000;
    expect(length('2026-03-08T05:00:00Z')).toBe(23);
    expect(length('2026-11-01T04:00:00Z')).toBe(25);
  });

  it('starts Europe/Paris DST days at local midnight, lasting 23 and 25 hours, with 2 or 3 buckets in 2 days', () => {
    const days = (from: string, to: string) => bucketStarts('DAY', 'Europe/Paris', Date.parse(from), Date.parse(to), 10_000)!.map((t) => new Date(t).toISOString());
    expect(days('2026-03-27T23:00:00Z', '2026-03-29T22:00:00Z')).toEqual(['2026-03-27T23:00:00.000Z', '2026-03-28T23:00:00.000Z']);
    expect(days('2026-03-28T12:00:00Z', '2026-03-30T12:00:00Z')).toEqual(['2026-03-27T23:00:00.000Z', '2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z']);
    expect(days('2026-10-24T22:00:00Z', '2026-10-26T23:00:00Z')).toEqual(['2026-10-24T22:00:00.000Z', '2026-10-25T23:00:00.000Z']);
    expect(days('2026-10-24T12:00:00Z', '2026-10-26T12:00:00Z')).toEqual(['2026-10-23T22:00:00.000Z', '2026-10-24T22:00:00.000Z', '2026-10-25T23:00:00.000Z']);
  });

  it('computes the local calendar of years 1–99 (not 1901–1999) and across year 0 (1 BC)', () => {
    const iso = (bucket: 'HOUR' | 'DAY' | 'WEEK', zone: string, from: string, to: string) =>
      bucketStarts(bucket, zone, Date.parse(from), Date.parse(to), 10_000)!.map((t) => new Date(t).toISOString());
    // Paris kept mean time (+0:09:21) until 1911.
    expect(iso('DAY', 'Europe/Paris', '0050-06-10T00:00:00Z', '0050-06-12T00:00:00Z')).toEqual(['0050-06-09T23:50:39.000Z', '0050-06-10T23:50:39.000Z', '0050-06-11T23:50:39.000Z']);
    expect(iso('DAY', 'Europe/Paris', '0001-01-01T00:00:00Z', '0001-01-02T00:00:00Z')).toEqual(['0000-12-31T23:50:39.000Z', '0001-01-01T23:50:39.000Z']);
    // Kolkata (+5:53:28): hours start at :06:32, the first one in year 0 — why `executionStats` refuses such a range.
    expect(iso('HOUR', 'Asia/Kolkata', '0001-01-01T00:00:00Z', '0001-01-01T02:00:00Z')).toEqual(['0000-12-31T23:06:32.000Z', '0001-01-01T00:06:32.000Z', '0001-01-01T01:06:32.000Z']);
    // 0001-01-01 is a Monday; New York's local mean time is −4:56:02.
    expect(iso('WEEK', 'America/New_York', '0001-01-08T00:00:00Z', '0001-01-09T00:00:00Z')).toEqual(['0001-01-01T04:56:02.000Z', '0001-01-08T04:56:02.000Z']);
  });

  it(`starts every first bucket in year 1 or later, in every zone, for ranges from ${EARLIEST_STATS_FROM}`, () => {
    const from = Date.parse(EARLIEST_STATS_FROM);
    const yearOne = Date.parse('0001-01-01T00:00:00Z');
    for (const zone of Intl.supportedValuesOf('timeZone')) {
      for (const bucket of ['HOUR', 'DAY', 'WEEK'] as const) {
        const first = bucketStarts(bucket, zone, from, from + 3_600_000, 10_000)![0]!;
        expect(first, `${zone} ${bucket}`).toBeGreaterThanOrEqual(yearOne);
        expect(first, `${zone} ${bucket}`).toBeLessThanOrEqual(from);
      }
    }
  });

  it('refuses more buckets than the cap, and knows IANA names only', () => {
    expect(bucketStarts('HOUR', 'UTC', 0, 10_001 * 3_600_000, 10_000)).toBeNull();
    expect(isKnownTimeZone('Asia/Kolkata')).toBe(true);
    expect(isKnownTimeZone('Mars/Base')).toBe(false);
    expect(isKnownTimeZone('')).toBe(false);
  });
});
