import type { ApiKeyPermission, User } from '../../generated/prisma/client.js';

/** Who is asking: the owner of the API key the request carried, with that key's permissions. */
export type Viewer = {
  user: User;
  apiKeyId: string;
  permissions: ReadonlySet<ApiKeyPermission>;
  isAdmin: boolean;
};

export function makeViewer(user: User, apiKeyId: string, permissions: readonly ApiKeyPermission[]): Viewer {
  return { user, apiKeyId, permissions: new Set(permissions), isAdmin: permissions.includes('ADMIN') };
}
