import type { Resolvers } from '../../generated/graphql.js';
import { requireViewer } from '../auth/guards.js';

export const userResolvers: Resolvers = {
  Query: {
    viewer: (_root, _args, ctx) => requireViewer(ctx.viewer).user,
  },
  User: {
    // Shown only for the viewer's own key; other users' key permissions are not the caller's business.
    permissions: (user, _args, ctx) => (ctx.viewer?.user.id === user.id ? [...ctx.viewer.permissions] : null),
  },
};
