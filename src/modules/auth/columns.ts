import type { ApiKey } from '../../generated/prisma/client.js';
import { modelTable } from '../../db/columns.js';

/** The ApiKey model's columns (alias `k`); see db/columns.ts. */
export const API_KEY_TABLE = modelTable<ApiKey>('api_keys', 'k', {
  id: { column: 'id' },
  userId: { column: 'user_id' },
  name: { column: 'name' },
  prefix: { column: 'prefix' },
  secretHash: { column: 'secret_hash' },
  permissions: { column: 'permissions', kind: 'texts' },
  status: { column: 'status', kind: 'text' },
  createdAt: { column: 'created_at', kind: 'time' },
  lastUsedAt: { column: 'last_used_at', kind: 'time' },
  revokedAt: { column: 'revoked_at', kind: 'time' },
});
