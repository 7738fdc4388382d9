import type { User } from '../../generated/prisma/client.js';
import { modelTable } from '../../db/columns.js';

/** The User model's columns (alias `u`); see db/columns.ts. */
export const USER_TABLE = modelTable<User>('users', 'u', {
  id: { column: 'id' },
  email: { column: 'email' },
  name: { column: 'name' },
  metadata: { column: 'metadata', kind: 'json' },
  createdAt: { column: 'created_at', kind: 'time' },
  updatedAt: { column: 'updated_at', kind: 'time' },
});
