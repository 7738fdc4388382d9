import type { Resolvers } from '../../generated/graphql.js';
import { connectionResolvers } from '../shared/connection.js';
import { apiKeyConnection, createApiKey, revokeApiKey } from './api-key-service.js';

export const authResolvers: Resolvers = {
  Mutation: {
    createApiKey: (_root, { name, permissions }, ctx) => createApiKey(ctx, name, permissions),
    revokeApiKey: (_root, { id }, ctx) => revokeApiKey(ctx, id),
  },
  CreateApiKeyPayload: {
    apiKey: (ref, _args, ctx) => ctx.loaders.apiKeys.apiKeyById.load(ref.apiKeyId).then((key) => key!),
    secret: (ref) => ref.secret,
  },
  ApiKeyPayload: {
    apiKey: (ref, _args, ctx) => ctx.loaders.apiKeys.apiKeyById.load(ref.apiKeyId).then((key) => key!),
  },
  User: {
    apiKeys: (user, args, ctx) => apiKeyConnection(ctx, user, args),
  },
  ApiKeyConnection: connectionResolvers,
};
