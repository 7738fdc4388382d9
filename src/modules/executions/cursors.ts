import type { GraphExecution, NodeExecution } from '../../generated/prisma/client.js';
import { isUuid } from '../shared/ids.js';
import { decodeCursor, encodeCursor, invalidCursor } from '../shared/pagination.js';
import type { Keyset } from './execution-store.js';

function keysetCursor<T>(order: string, keyOf: (row: T) => Keyset) {
  return {
    encode: (row: T) => {
      const key = keyOf(row);
      return encodeCursor(order, [key.at.toISOString(), key.id]);
    },
    decode: (cursor: string | null | undefined): Keyset | null => {
      if (!cursor) return null;
      const [at, id] = decodeCursor(cursor, order, ['string', 'string']) as [string, string];
      const date = new Date(at);
      if (Number.isNaN(date.getTime()) || !isUuid(id)) throw invalidCursor();
      return { at: date, id };
    },
  };
}

export const graphExecutionCursor = (direction: 'ASC' | 'DESC') =>
  keysetCursor<GraphExecution>(`graphExecutions:CREATED_AT:${direction}`, (row) => ({ at: row.createdAt, id: row.id }));

export const nodeExecutionCursor = keysetCursor<NodeExecution>('nodeExecutions:ADDED_AT:ASC', (row) => ({ at: row.addedAt, id: row.id }));
