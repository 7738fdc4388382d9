import fc from 'fast-check';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { parseTimestamptz } from '../../src/db/pg-types.js';
import { POSTGRES_ADMIN_URL, testDatabaseKinds } from '../helpers/databases.js';

const stock = pg.types.getTypeParser(1184, 'text') as (value: string) => Date;
const pad = (n: number, width = 2) => String(Math.abs(n)).padStart(width, '0');

/** The fast timestamptz parser agrees with node-postgres's own on everything PostgreSQL prints. */
describe('timestamptz parsing', () => {
  it('matches postgres-date on generated values (years 1–9999, fractions, offsets with and without minutes)', () => {
    fc.assert(
      fc.property(
        fc.record({
          year: fc.integer({ min: 1, max: 9999 }),
          month: fc.integer({ min: 1, max: 12 }),
          day: fc.integer({ min: 1, max: 28 }),
          hour: fc.integer({ min: 0, max: 23 }),
          minute: fc.integer({ min: 0, max: 59 }),
          second: fc.integer({ min: 0, max: 59 }),
          fraction: fc.option(fc.stringMatching(/^[0-9]{1,6}$/), { nil: undefined }),
          offsetHours: fc.integer({ min: -15, max: 15 }),
          offsetMinutes: fc.constantFrom(0, 30, 45),
        }),
        (t) => {
          const sign = t.offsetHours < 0 ? '-' : '+';
          const offset = `${sign}${pad(t.offsetHours)}${t.offsetMinutes ? `:${pad(t.offsetMinutes)}` : ''}`;
          const text = `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)} ${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}${t.fraction ? `.${t.fraction}` : ''}${offset}`;
          expect(parseTimestamptz(text).getTime()).toBe(stock(text).getTime());
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('leaves BC years, infinities and second-precision offsets to the stock parser', () => {
    for (const text of ['0044-03-15 12:00:00+00 BC', 'infinity', '-infinity', '1850-01-01 00:00:00+00:09:21']) {
      expect(String(parseTimestamptz(text))).toBe(String(stock(text)));
    }
  });

  it.runIf(testDatabaseKinds.includes('postgres'))('parses what PostgreSQL sends, in several session time zones', async () => {
    const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
    await client.connect();
    try {
      for (const zone of ['UTC', 'Asia/Kolkata', 'America/St_Johns', 'Pacific/Chatham', 'Europe/Amsterdam']) {
        await client.query(`SET TIME ZONE '${zone}'`);
        const { rows } = await client.query<{ t: string }>({
          text: `SELECT (timestamptz '1900-01-01 00:00:00.5+00' + g * interval '7 days 3 hours 17 minutes 0.123456 seconds')::text AS t FROM generate_series(0, 2000) g`,
        });
        for (const { t } of rows) expect(parseTimestamptz(t).getTime()).toBe(stock(t).getTime());
      }
    } finally {
      await client.end();
    }
  });
});
