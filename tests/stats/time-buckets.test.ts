import { describe, expect, it } from 'vitest';
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

  it('starts a New York DST day at local midnight, lasting 23 and 25 hours', () => {
    const days = bucketStarts('DAY', 'America/New_York', Date.parse('2026-03-07T05:00:00Z'), Date.parse('2026-11-03T05:00:00Z'), 10_000)!;
    const length = (start: string) => (days[days.indexOf(Date.parse(start)) + 1]! - Date.parse(start)) / 3_600_000;
    expect(length('2026-03-08T05:00:00Z')).toBe(23);
    expect(length('2026-11-01T04:00:00Z')).toBe(25);
  });

  it('refuses more buckets than the cap, and knows IANA names only', () => {
    expect(bucketStarts('HOUR', 'UTC', 0, 10_001 * 3_600_000, 10_000)).toBeNull();
    expect(isKnownTimeZone('Asia/Kolkata')).toBe(true);
    expect(isKnownTimeZone('Mars/Base')).toBe(false);
    expect(isKnownTimeZone('')).toBe(false);
  });
});
