import type { GraphExecution, NodeExecution } from '../../generated/prisma/client.js';
import { decodeCursor, encodeCursor } from '../shared/pagination.js';
import type { Keyset } from './execution-store.js';

function keysetCursor<T>(order: string, keyOf: (row: T) => Keyset) {
  return {
    encode: (row: T) => {
      const key = keyOf(row);
      return encodeCursor(order, [key.at, key.id]);
    },
    decode: (cursor: string | null | undefined): Keyset | null => {
      if (!cursor) return null;
      const [at, id] = decodeCursor(cursor, order, ['date', 'uuid']);
      return { at, id };
    },
  };
}

const runCursor = (direction: 'ASC' | 'DESC') =>
  keysetCursor<GraphExecution>(`graphExecutions:CREATED_AT:${direction}`, (row) => ({ at: row.createdAt, id: row.id }));
const RUN_CURSORS = { ASC: runCursor('ASC'), DESC: runCursor('DESC') };

export const graphExecutionCursor = (direction: 'ASC' | 'DESC') => RUN_CURSORS[direction];

export const nodeExecutionCursor = keysetCursor<NodeExecution>('nodeExecutions:ADDED_AT:ASC', (row) => ({ at: row.addedAt, id: row.id }));
