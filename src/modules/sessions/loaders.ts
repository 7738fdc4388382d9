import DataLoader from 'dataloader';
import type { Database } from '../../db/database.js';
import { eventJsonByIds, listEventsForSessions, type EventPageQuery, type SessionEventRow } from './event-store.js';
import { memberCounts, SESSION_JSON_FIELDS, sessionsByIds, type SessionJsonField, type SessionRow } from './session-store.js';

export type MemberCountKey = { teamSessionId: string; ownerId: string | null };

/** Every set of JSON columns a session can be read with (a loader per set), as `formKey` names them. */
const FORMS: ReadonlyArray<readonly SessionJsonField[]> = [[], ['metadata'], ['state'], [...SESSION_JSON_FIELDS]];
const formKey = (json: readonly SessionJsonField[]) => json.join(',');

/** Per-request loaders of the sessions domain. */
export function createSessionLoaders(db: Database) {
  const sql = db.sql;
  /**
   * Sessions by id, one loader per set of JSON columns read (the light columns always): `session(id) { version }`
   * does not read the state. A row read with more columns also answers the lesser forms.
   */
  const byForm = new Map<string, DataLoader<string, SessionRow | null>>(
    FORMS.map((json) => [formKey(json), new DataLoader<string, SessionRow | null>((ids) => sessionsByIds(sql, ids, json))]),
  );
  const sessionLoader = (json: readonly SessionJsonField[]) => byForm.get(formKey(json))!;
  const formsWithin = (json: readonly SessionJsonField[]) => FORMS.filter((form) => form.every((field) => json.includes(field)));

  const memberCount = new DataLoader<MemberCountKey, number, string>((keys) => memberCounts(sql, keys), {
    cacheKeyFn: (key) => `${key.teamSessionId}:${key.ownerId ?? '*'}`,
  });
  /** One events page per session; pages of the same shape (size, cursors, filter, columns) for many sessions batch into one statement. */
  const eventPage = new DataLoader<EventPageQuery, SessionEventRow[], string>(
    async (queries) => {
      const shapes = new Map<string, { shape: Omit<EventPageQuery, 'sessionId'>; indexes: number[] }>();
      queries.forEach((query, index) => {
        const { sessionId: _sessionId, ...shape } = query;
        const key = JSON.stringify(shape);
        const group = shapes.get(key) ?? { shape, indexes: [] };
        group.indexes.push(index);
        shapes.set(key, group);
      });
      const results: SessionEventRow[][] = new Array(queries.length);
      await Promise.all(
        [...shapes.values()].map(async ({ shape, indexes }) => {
          const pages = await listEventsForSessions(sql, indexes.map((i) => queries[i]!.sessionId), shape);
          indexes.forEach((queryIndex, i) => (results[queryIndex] = pages[i]!));
        }),
      );
      return results;
    },
    { cacheKeyFn: (query) => JSON.stringify(query) },
  );
  /** The JSON columns of events read without them (events never change: no form to keep in step). */
  const eventJson = new DataLoader((ids: readonly string[]) => eventJsonByIds(sql, ids));

  return {
    memberCount,
    eventPage,
    eventJson,
    /** A session read with (at least) the JSON columns in `json`. */
    load: (id: string, json: readonly SessionJsonField[]) => sessionLoader(json).load(id),
    /** Rows read with the JSON columns in `json` answer later loads of that form and of every lesser one. */
    prime(rows: readonly SessionRow[], json: readonly SessionJsonField[]): void {
      for (const form of formsWithin(json)) for (const row of rows) sessionLoader(form).prime(row.id, row);
    },
    /** A session written (or deleted): what this request read of it before no longer holds. */
    forget(id: string): void {
      for (const loader of byForm.values()) loader.clear(id);
    },
    forgetAll(): void {
      for (const loader of byForm.values()) loader.clearAll();
    },
  };
}

export type SessionLoaders = ReturnType<typeof createSessionLoaders>;
