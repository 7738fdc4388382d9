import type { Resolvers } from '../../generated/graphql.js';
import { requireViewer } from '../auth/guards.js';
import { connectionResolvers } from '../shared/connection.js';
import { userConnection } from './user-service.js';

export const userResolvers: Resolvers = {
  Query: {
    viewer: (_root, _args, ctx) => requireViewer(ctx.viewer).user,
    users: (_root, args, ctx) => userConnection(ctx, args),
  },
  User: {
    // Shown only for the viewer's own key; other users' key permissions are not the caller's business.
    permissions: (user, _args, ctx) => (ctx.viewer?.user.id === user.id ? [...ctx.viewer.permissions] : null),
  },
  UserConnection: connectionResolvers,
};
