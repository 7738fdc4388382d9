/**
 * node-postgres type parsing for `db.sql`: timestamptz values in the form PostgreSQL prints them with an ISO
 * DateStyle ("2026-11-22 07:22:33.123+00", "…+05:30") are read digit by digit into Date.UTC, several times
 * faster than postgres-date's regular expressions and string-to-number conversions (≈5 % of the server's CPU on
 * list-heavy reads). Anything else (BC years, ±infinity, offsets with seconds) goes to the stock parser.
 */
import pg from 'pg';

const TIMESTAMPTZ_OID = 1184;
const ISO_TIMESTAMPTZ = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{1,6})?[+-]\d\d(?::\d\d)?$/;
const stockTimestamptz = pg.types.getTypeParser(TIMESTAMPTZ_OID, 'text') as (value: string) => Date;

const digits = (s: string, from: number, to: number): number => {
  let n = 0;
  for (let i = from; i < to; i++) n = n * 10 + (s.charCodeAt(i) - 48);
  return n;
};

export function parseTimestamptz(value: string): Date {
  if (!ISO_TIMESTAMPTZ.test(value)) return stockTimestamptz(value);
  // "YYYY-MM-DD HH:MM:SS[.ffffff]±HH[:MM]": fixed positions up to the seconds, then an optional fraction.
  let i = 19;
  let ms = 0;
  if (value.charCodeAt(i) === 46 /* '.' */) {
    const start = ++i;
    while (i < value.length && value.charCodeAt(i) >= 48 && value.charCodeAt(i) <= 57) i++;
    // Milliseconds, truncated like postgres-date.
    ms = Math.floor(digits(value, start, i) / 10 ** (i - start - 3));
  }
  const sign = value.charCodeAt(i) === 45 /* '-' */ ? -1 : 1;
  const offsetMinutes = sign * (digits(value, i + 1, i + 3) * 60 + (value.length > i + 3 ? digits(value, i + 4, i + 6) : 0));
  const year = digits(value, 0, 4);
  // Date.UTC maps years 0–99 to 1900–1999.
  if (year < 100) return stockTimestamptz(value);
  const utc = Date.UTC(year, digits(value, 5, 7) - 1, digits(value, 8, 10), digits(value, 11, 13), digits(value, 14, 16), digits(value, 17, 19), ms);
  return new Date(utc - offsetMinutes * 60_000);
}

export const fastTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === TIMESTAMPTZ_OID && format !== 'binary' ? parseTimestamptz : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};
