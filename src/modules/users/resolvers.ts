import type { Resolvers } from '../../generated/graphql.js';
import { apiKeyConnection } from '../auth/api-key-service.js';
import { requireViewer } from '../auth/guards.js';
import { graphExecutionConnection, graphRunsLookAhead } from '../executions/execution-service.js';
import { childFields, listSelection } from '../shared/selection.js';
import { graphConnection } from '../graphs/graph-service.js';

export const userResolvers: Resolvers = {
  Query: {
    viewer: (_root, _args, ctx) => requireViewer(ctx.viewer).user,
  },
  User: {
    // Shown only for the viewer's own key; other users' key permissions are not the caller's business.
    permissions: (user, _args, ctx) => (ctx.viewer?.user.id === user.id ? [...ctx.viewer.permissions] : null),
    graphs: (user, args, ctx, info) => graphConnection(ctx, args, listSelection(info), user.id, graphRunsLookAhead(ctx, childFields(info, 'Graph', 'executions'))),
    graphExecutions: (user, args, ctx, info) => graphExecutionConnection(ctx, args, listSelection(info), user.id),
    apiKeys: (user, args, ctx) => apiKeyConnection(ctx, user, args),
  },
};
