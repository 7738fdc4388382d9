import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOwned } from '../helpers/authz.js';
import { createRun } from '../helpers/factories.js';
import { testDatabaseKinds } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * `executionStats` at the edges of the calendar: the earliest range it answers (a first bucket before year 1 is
 * refused, never an internal error), years 1–99 (whose local days are not those of 1901–1999), and the DST days of
 * Europe/Paris. Runs are written at chosen times; each series is compared with buckets and counts worked out by hand.
 */

const SERIES = `query($filter: ExecutionStatsFilter!, $bucket: TimeBucket, $tz: String) {
  executionStats(filter: $filter, bucket: $bucket, timezone: $tz) { total timeSeries { bucketStart total } }
}`;

type Series = { total: number; timeSeries: Array<{ bucketStart: string; total: number }> };

const RUN_TIMES = [
  '0001-01-08T00:30:00Z', // Kolkata (LMT +5:53:28): the local hour that starts 0001-01-08T00:06:32Z
  '0001-01-08T12:00:00Z', // New York (LMT −4:56:02): the local week that starts 0001-01-08T04:56:02Z (00:30Z is in the one before)
  '0050-06-10T00:05:00Z', // Paris (LMT +0:09:21): local 0050-06-10 00:14:21
  '0050-06-11T23:55:00Z', // Paris: local 0050-06-12 00:04:21
  '2026-03-28T10:00:00Z', // Paris: Saturday before spring-forward
  '2026-03-29T21:30:00Z', // Paris: local 23:30 CEST on the 23-hour Sunday (a 24-hour day would put it on Monday)
  '2026-10-25T22:30:00Z', // Paris: local 23:30 CET on the 25-hour Sunday (a 24-hour day would put it on Monday)
  '2026-10-26T12:00:00Z', // Paris: Monday after fall-back
];

describe.each(testDatabaseKinds)('executionStats at the edges of the calendar on %s', (kind) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ database: kind });
    const { graphId } = await createOwned(server.db, server.userId, 'calendar');
    // Only the runs written below: the fixture's own run is dropped.
    await server.db.prisma.nodeExecution.deleteMany({});
    await server.db.prisma.graphExecution.deleteMany({});
    for (const at of RUN_TIMES) await createRun(server.db, { graphId, version: 2, userId: server.userId, createdAt: new Date(at) });
  });
  afterAll(() => server?.close());

  const ask = (from: string, to: string, bucket: string, tz: string) => server.graphql<{ executionStats: Series }>(SERIES, { filter: { from, to }, bucket, tz });

  async function series(from: string, to: string, bucket: string, tz: string) {
    const res = await ask(from, to, bucket, tz);
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    return res.data!.executionStats.timeSeries.map((p) => [p.bucketStart, p.total]);
  }

  describe('the earliest range', () => {
    it.each([
      ['HOUR', 'Asia/Kolkata', '0001-01-01T00:00:00Z', '0001-01-01T03:00:00Z'],
      ['DAY', 'Europe/Paris', '0001-01-01T00:00:00Z', '0001-01-03T00:00:00Z'],
      ['WEEK', 'UTC', '0001-01-07T23:59:59.999Z', '0001-01-09T00:00:00Z'],
    ])('%s buckets in %s from %s: BAD_USER_INPUT naming `filter` and the bound, not INTERNAL_SERVER_ERROR', async (bucket, tz, from, to) => {
      const res = await ask(from, to, bucket, tz);
      expect(res.status).toBe(200);
      expect(res.data ?? null).toBeNull();
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'filter' });
      expect(res.errors?.[0]?.message).toContain('0001-01-08T00:00:00Z');
    });

    it('HOUR buckets in Asia/Kolkata from the bound follow its local mean time, and count the run', async () => {
      expect(await series('0001-01-08T00:00:00Z', '0001-01-08T03:00:00Z', 'HOUR', 'Asia/Kolkata')).toEqual([
        ['0001-01-07T23:06:32.000Z', 0],
        ['0001-01-08T00:06:32.000Z', 1],
        ['0001-01-08T01:06:32.000Z', 0],
        ['0001-01-08T02:06:32.000Z', 0],
      ]);
    });

    it('WEEK buckets in America/New_York from the bound start on Monday 0001-01-01, local midnight', async () => {
      expect(await series('0001-01-08T00:00:00Z', '0001-01-09T00:00:00Z', 'WEEK', 'America/New_York')).toEqual([
        ['0001-01-01T04:56:02.000Z', 1],
        ['0001-01-08T04:56:02.000Z', 1],
      ]);
    });
  });

  it('DAY buckets of a 2-day range in year 50, Europe/Paris: the partial first and last local days included', async () => {
    expect(await series('0050-06-10T00:00:00Z', '0050-06-12T00:00:00Z', 'DAY', 'Europe/Paris')).toEqual([
      ['0050-06-09T23:50:39.000Z', 1],
      ['0050-06-10T23:50:39.000Z', 0],
      ['0050-06-11T23:50:39.000Z', 1],
    ]);
  });

  describe('DAY buckets of Europe/Paris around its 2026 DST changes', () => {
    it('two local days ending on the 23-hour spring-forward Sunday: 2 buckets', async () => {
      expect(await series('2026-03-27T23:00:00Z', '2026-03-29T22:00:00Z', 'DAY', 'Europe/Paris')).toEqual([
        ['2026-03-27T23:00:00.000Z', 1],
        ['2026-03-28T23:00:00.000Z', 1],
      ]);
    });

    it('a 2-day range not aligned to local midnight across spring-forward: 3 buckets, the first one partial', async () => {
      expect(await series('2026-03-28T12:00:00Z', '2026-03-30T12:00:00Z', 'DAY', 'Europe/Paris')).toEqual([
        ['2026-03-27T23:00:00.000Z', 0],
        ['2026-03-28T23:00:00.000Z', 1],
        ['2026-03-29T22:00:00.000Z', 0],
      ]);
    });

    it('two local days starting on the 25-hour fall-back Sunday: 2 buckets', async () => {
      expect(await series('2026-10-24T22:00:00Z', '2026-10-26T23:00:00Z', 'DAY', 'Europe/Paris')).toEqual([
        ['2026-10-24T22:00:00.000Z', 1],
        ['2026-10-25T23:00:00.000Z', 1],
      ]);
    });

    it('the day before fall-back and the fall-back Sunday, from mid-Saturday: 2 buckets', async () => {
      expect(await series('2026-10-24T10:00:00Z', '2026-10-25T23:00:00Z', 'DAY', 'Europe/Paris')).toEqual([
        ['2026-10-23T22:00:00.000Z', 0],
        ['2026-10-24T22:00:00.000Z', 1],
      ]);
    });
  });
});
