/**
 * `Date.prototype.toISOString` for the years 1 to 9999, 3 to 4 times faster: V8's own takes 0.6–1 µs a call, and
 * a dashboard answer holds hundreds of timestamps (7 % of the server's CPU on the 200-run dashboard query).
 * Civil date from days since the epoch after Howard Hinnant's `civil_from_days`.
 */
const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
const MS_PER_DAY = 86_400_000;
/** 0001-01-01T00:00:00.000Z and the first millisecond of year 10000. */
const MIN_MS = -62_135_596_800_000;
const MAX_MS = 253_402_300_800_000;

/**
 * The last day written ("YYYY-MM-DDT") and each whole minute's "HH:MM:00.000Z": a time series writes thousands of
 * timestamps of a few days and minutes, and a string of 13 pieces allocated ~370 bytes of intermediate strings each.
 * Both are pure functions of their key, so sharing them across requests leaks nothing.
 */
let lastDay = Number.NaN;
let lastDayPrefix = '';
const WHOLE_MINUTES: Array<string | undefined> = new Array(1440);

/** "YYYY-MM-DDT" of a day counted from the epoch (civil_from_days). */
function dayPrefix(days: number): string {
  if (days === lastDay) return lastDayPrefix;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1;
  const month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const yyyy = year >= 1000 ? String(year) : String(year).padStart(4, '0');
  lastDay = days;
  lastDayPrefix = `${yyyy}-${TWO_DIGITS[month]}-${TWO_DIGITS[day]}T`;
  return lastDayPrefix;
}

export function isoTimestamp(date: Date): string {
  const ms = date.getTime();
  if (!(ms >= MIN_MS && ms < MAX_MS)) return date.toISOString();
  const days = Math.floor(ms / MS_PER_DAY);
  let rest = ms - days * MS_PER_DAY;
  const prefix = dayPrefix(days);
  if (rest % 60_000 === 0) {
    const minute = rest / 60_000;
    return prefix + (WHOLE_MINUTES[minute] ??= `${TWO_DIGITS[Math.floor(minute / 60)]}:${TWO_DIGITS[minute % 60]}:00.000Z`);
  }
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  const millis = rest - seconds * 1000;
  return `${prefix}${TWO_DIGITS[hours]}:${TWO_DIGITS[minutes]}:${TWO_DIGITS[seconds]}.${THREE_DIGITS[millis]}Z`;
}
