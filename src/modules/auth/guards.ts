import { forbidden, unauthenticated } from '../../errors.js';
import type { Viewer } from './viewer.js';

/** Every field that reads or writes data starts here: no viewer, no data. */
export function requireViewer(viewer: Viewer | null): Viewer {
  if (!viewer) throw unauthenticated();
  return viewer;
}

/**
 * The owner whose rows a query may return: the viewer, or for admins any requested owner (null = everyone).
 * A non-admin naming someone else is refused rather than silently given their own rows.
 */
export function ownerScope(viewer: Viewer, requestedOwnerId?: string | null): string | null {
  if (viewer.isAdmin) return requestedOwnerId ?? null;
  if (requestedOwnerId && requestedOwnerId !== viewer.user.id) {
    throw forbidden('Only an API key with the ADMIN permission may read other users’ data.');
  }
  return viewer.user.id;
}

/** Whether the viewer may see rows owned by `ownerId`; callers answer NOT_FOUND when not. */
export function canSeeOwner(viewer: Viewer, ownerId: string): boolean {
  return viewer.isAdmin || viewer.user.id === ownerId;
}


/**
 * A graph's fields that are its owner's (the owner, other versions, runs, statistics): another user reaches a graph
 * only as a published template, which shows its definition and nothing of its owner's. Returns the graph.
 */
export function ownGraph<G extends { userId: string }>(viewer: Viewer | null, graph: G, what: string): G {
  if (!canSeeOwner(requireViewer(viewer), graph.userId)) throw forbidden(`This graph is another user's template: it shows its definition, not its ${what}.`);
  return graph;
}
