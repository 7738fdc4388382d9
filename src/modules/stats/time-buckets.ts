/**
 * Calendar buckets in an IANA timezone, computed here (with the ICU data behind `Intl`) rather than in SQL: the
 * statements then only assign rows to precomputed bucket starts (`width_bucket` over a sorted timestamptz[]), which
 * is the same on PostgreSQL and PGlite, and DST is handled in one place:
 *  - DAY / WEEK buckets start at local midnight (WEEK: Monday's), taken as an instant; a DST day lasts 23 or 25 h.
 *    Where local midnight does not exist (a DST gap at midnight), the day starts at its first local instant.
 *  - HOUR buckets start where the local clock shows hh:00 or the UTC offset changes; the repeated hour of a
 *    fall-back transition is two buckets (with distinct instants), the skipped hour of a spring-forward transition
 *    none, and a 30-minute shift (Lord Howe Island) makes a half-hour bucket.
 * tests/stats/time-buckets.test.ts checks all of this against a brute-force scan of the local calendar.
 */
import type { TimeBucket } from '../../generated/graphql.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The formatter of a zone; throws RangeError for an unknown zone. */
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Whether ICU knows the IANA zone (names as given are kept: ICU may canonicalize Asia/Kolkata to Asia/Calcutta). */
export function isKnownTimeZone(timeZone: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/.test(timeZone)) return false;
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

type Local = { y: number; m: number; d: number; h: number; min: number; s: number };

function localParts(timeZone: string, at: number): Local {
  const parts: Record<string, number> = {};
  let beforeChrist = false;
  for (const p of formatter(timeZone).formatToParts(at)) {
    if (p.type === 'era') beforeChrist = p.value === 'BC';
    else if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  // ICU counts years of eras (1 BC, 2 BC, …); as an astronomical year 1 BC is year 0.
  const y = beforeChrist ? 1 - parts.year! : parts.year!;
  return { y, m: parts.month!, d: parts.day!, h: parts.hour!, min: parts.minute!, s: parts.second! };
}

/** Date.UTC without its rule that years 0–99 mean 1900–1999 (the local days of year 1 start in year 1). */
function utc(y: number, monthIndex: number, d: number, h = 0, min = 0, s = 0): number {
  if (y >= 100) return Date.UTC(y, monthIndex, d, h, min, s);
  const date = new Date(0);
  date.setUTCFullYear(y, monthIndex, d);
  return date.setUTCHours(h, min, s, 0);
}

/** Local wall time read as if it were UTC, in ms: comparable across instants of one zone. */
const wall = (l: Local) => utc(l.y, l.m - 1, l.d, l.h, l.min, l.s);

/** First instant whose local wall time is ≥ the given wall time (exact at DST gaps and overlaps). */
function firstInstantAtOrAfter(timeZone: string, target: number): number {
  // Offsets lie within ±18 h; local wall time is non-decreasing except across fall-back overlaps, where the
  // earliest instant showing the wall time is wanted: binary search on whole seconds.
  let lo = target - 18 * HOUR;
  let hi = target + 18 * HOUR;
  const guess = target - (wall(localParts(timeZone, target)) - target);
  if (wall(localParts(timeZone, guess)) === target) {
    // The common case; still make sure no earlier instant (the first pass of an overlap) shows it.
    const earlier = guess - HOUR;
    if (wall(localParts(timeZone, earlier)) !== target) return guess;
    hi = earlier;
  }
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (wall(localParts(timeZone, mid)) >= target) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** Local midnight of the local day containing `at`, as an instant. */
function startOfLocalDay(timeZone: string, at: number): number {
  const l = localParts(timeZone, at);
  return firstInstantAtOrAfter(timeZone, utc(l.y, l.m - 1, l.d));
}

function startOfLocalWeek(timeZone: string, at: number): number {
  const l = localParts(timeZone, at);
  const weekday = (new Date(utc(l.y, l.m - 1, l.d)).getUTCDay() + 6) % 7; // Monday = 0
  return firstInstantAtOrAfter(timeZone, utc(l.y, l.m - 1, l.d) - weekday * DAY);
}

/** The next local calendar boundary after `start` (a bucket start) for DAY and WEEK. */
function nextCalendarStart(timeZone: string, start: number, days: number): number {
  const l = localParts(timeZone, start);
  return firstInstantAtOrAfter(timeZone, utc(l.y, l.m - 1, l.d) + days * DAY);
}

/** UTC offset (ms) at an instant. */
const offsetAt = (timeZone: string, at: number) => wall(localParts(timeZone, at)) - Math.floor(at / 1000) * 1000;

/** The first instant in (lo, hi] whose offset differs from the offset at lo (hi must have a different offset). */
function transitionIn(timeZone: string, lo: number, hi: number): number {
  const before = offsetAt(timeZone, lo);
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (offsetAt(timeZone, mid) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * The start of the local hour containing `at`: the last instant at or before it where the clock showed hh:00 or
 * the offset changed (a 30-minute DST shift, as on Lord Howe Island, makes a bucket of half an hour).
 */
function startOfLocalHour(timeZone: string, at: number): number {
  const l = localParts(timeZone, at);
  const h = at - l.min * MINUTE - l.s * 1000 - (((at % 1000) + 1000) % 1000);
  return offsetAt(timeZone, h) === offsetAt(timeZone, at) ? h : transitionIn(timeZone, h, at);
}

/**
 * The instants in (from, to] where a zone's offset changes: the offset is sampled every 6 hours (zones change it at
 * most a few times a year) and each change pinned down by binary search.
 */
function sampleOffsetChanges(timeZone: string, from: number, to: number): number[] {
  const changes: number[] = [];
  let previous = from;
  let previousOffset = offsetAt(timeZone, from);
  while (previous < to) {
    const probe = Math.min(previous + 6 * HOUR, to);
    const offset = offsetAt(timeZone, probe);
    if (offset !== previousOffset) changes.push(transitionIn(timeZone, previous, probe));
    previous = probe;
    previousOffset = offset;
  }
  return changes;
}

/**
 * A zone's offset changes within one UTC year, kept per zone and year as the formatters are: a year is 1,460 ICU calls
 * (about 9 ms), the answer depends on ICU's data only, and dashboards ask for the same zones and years again and again.
 * Bounded: the oldest entries go first.
 */
const offsetChangesByYear = new Map<string, readonly number[]>();
const MAX_CACHED_ZONE_YEARS = 2_048;

function offsetChangesInYear(timeZone: string, year: number): readonly number[] {
  const key = `${year} ${timeZone}`;
  const cached = offsetChangesByYear.get(key);
  if (cached) return cached;
  const changes = sampleOffsetChanges(timeZone, utc(year, 0, 1), utc(year + 1, 0, 1));
  if (offsetChangesByYear.size >= MAX_CACHED_ZONE_YEARS) offsetChangesByYear.delete(offsetChangesByYear.keys().next().value!);
  offsetChangesByYear.set(key, changes);
  return changes;
}

/** Ranges up to a month sample themselves (at most ~124 ICU calls); longer ones read whole years, kept. */
const SAMPLED_RANGE_MS = 31 * DAY;

/** The instants in (after, before) where the zone's offset changes, ascending. */
function offsetChangesBetween(timeZone: string, after: number, before: number): number[] {
  if (before - after <= SAMPLED_RANGE_MS) return sampleOffsetChanges(timeZone, after, before).filter((change) => change < before);
  const changes: number[] = [];
  for (let year = new Date(after).getUTCFullYear(); year <= new Date(before).getUTCFullYear(); year++) {
    for (const change of offsetChangesInYear(timeZone, year)) if (change > after && change < before) changes.push(change);
  }
  return changes;
}

/**
 * HOUR bucket starts: offset changes are located first (offsetChangesInYear); between two changes the offset is
 * constant and local hh:00 instants are plain arithmetic.
 */
function hourStarts(timeZone: string, from: number, to: number, max: number): number[] | null {
  const first = startOfLocalHour(timeZone, from);
  const changes = offsetChangesBetween(timeZone, first, to);
  const starts: number[] = [];
  let segmentStart = first;
  for (const segmentEnd of [...changes, to]) {
    const offset = offsetAt(timeZone, segmentStart);
    starts.push(segmentStart);
    for (let t = Math.floor((segmentStart + offset) / HOUR) * HOUR - offset + HOUR; t < segmentEnd; t += HOUR) {
      if (starts.length > max) return null;
      starts.push(t);
    }
    segmentStart = segmentEnd;
  }
  return starts.length > max ? null : starts;
}

/** Bucket starts (ascending instants in ms) covering [from, to): the first one is at or before `from`. */
export function bucketStarts(bucket: TimeBucket, timeZone: string, from: number, to: number, max: number): number[] | null {
  if (bucket === 'HOUR') return hourStarts(timeZone, from, to, max);
  const starts: number[] = [];
  let start = bucket === 'DAY' ? startOfLocalDay(timeZone, from) : startOfLocalWeek(timeZone, from);
  while (start < to) {
    if (starts.length === max) return null;
    starts.push(start);
    start = nextCalendarStart(timeZone, start, bucket === 'DAY' ? 1 : 7);
  }
  return starts;
}

/** An upper bound of the number of buckets, to refuse before computing them. */
export function bucketCountBound(bucket: TimeBucket, from: number, to: number): number {
  const width = bucket === 'HOUR' ? HOUR : bucket === 'DAY' ? DAY : 7 * DAY;
  return Math.ceil((to - from) / width) + 2;
}
