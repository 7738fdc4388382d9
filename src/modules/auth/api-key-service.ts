import type { GraphQLContext } from '../../context.js';
import type { ApiKey, ApiKeyPermission, User } from '../../generated/prisma/client.js';
import { badUserInput, forbidden, notFound } from '../../errors.js';
import { connectionFromPage, type Connection } from '../shared/connection.js';
import { isUuid } from '../shared/ids.js';
import { checkText } from '../shared/input.js';
import { decodeCursor, encodeCursor, pageSize } from '../shared/pagination.js';
import { generateApiKeySecret } from './api-key-secret.js';
import { countApiKeys, insertApiKey, listApiKeys, revokeApiKeyRow } from './api-key-store.js';
import { canSeeOwner, requireViewer } from './guards.js';
import type { ApiKeyPayloadRef, CreateApiKeyPayloadRef } from './payloads.js';

/** A key can only hand out what it has itself, so a narrow key cannot mint a broader one. */
export async function createApiKey(ctx: GraphQLContext, name: string, permissions: ApiKeyPermission[]): Promise<CreateApiKeyPayloadRef> {
  const viewer = requireViewer(ctx.viewer);
  checkText(name, 'name', { max: 100 });
  if (permissions.length === 0) throw badUserInput('A key needs at least one permission.', 'permissions');
  const missing = permissions.filter((p) => !viewer.isAdmin && !viewer.permissions.has(p));
  if (missing.length) throw forbidden(`This API key cannot grant permissions it does not have: ${missing.join(', ')}.`);
  const secret = generateApiKeySecret();
  const apiKeyId = await insertApiKey(ctx.db.prisma, {
    userId: viewer.user.id,
    name,
    prefix: secret.prefix,
    secretHash: secret.secretHash,
    permissions: [...new Set(permissions)],
  });
  return { apiKeyId, secret: secret.key };
}

export async function revokeApiKey(ctx: GraphQLContext, id: string): Promise<ApiKeyPayloadRef> {
  const viewer = requireViewer(ctx.viewer);
  const key = isUuid(id) ? await ctx.loaders.apiKeys.apiKeyById.load(id) : null;
  if (!key || !canSeeOwner(viewer, key.userId)) throw notFound('API key', id);
  // Like creation: a narrow key (say, read-only) cannot take down a broader one.
  const broader = key.permissions.filter((p) => !viewer.isAdmin && !viewer.permissions.has(p));
  if (broader.length) throw forbidden(`This API key cannot revoke a key with permissions it does not have: ${broader.join(', ')}.`);
  await revokeApiKeyRow(ctx.db.prisma, key.id);
  ctx.apiKeyCache?.forget(key.id);
  ctx.loaders.apiKeys.apiKeyById.clear(key.id);
  return { apiKeyId: key.id };
}

const ORDER = 'apiKeys:CREATED_AT:DESC';

/** User.apiKeys: only the user themselves (or an admin) may list them; others see an empty page. */
export async function apiKeyConnection(ctx: GraphQLContext, user: User, args: { first?: number | null; after?: string | null }): Promise<Connection<ApiKey>> {
  const viewer = requireViewer(ctx.viewer);
  if (!canSeeOwner(viewer, user.id)) throw forbidden('Only the owner of API keys (or an admin) may list them.');
  const size = pageSize(args.first);
  let after: { at: Date; id: string } | null = null;
  if (args.after) {
    const [at, id] = decodeCursor(args.after, ORDER, ['date', 'uuid']);
    after = { at, id };
  }
  const rows = await listApiKeys(ctx.db.prisma, user.id, after, size + 1);
  for (const row of rows) ctx.loaders.apiKeys.apiKeyById.prime(row.id, row);
  return connectionFromPage(rows, size, Boolean(args.after), (row) => encodeCursor(ORDER, [row.createdAt, row.id]), () =>
    countApiKeys(ctx.db.prisma, user.id),
  );
}
